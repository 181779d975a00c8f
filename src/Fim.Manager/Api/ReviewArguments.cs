using V1 = Fim.Api.V1;
using Fim.Manager.Store;
using Google.Protobuf.WellKnownTypes;

namespace Fim.Manager.Api;

/// <summary>The checks of a review request (InvalidArgument naming the field) and the review's API form.</summary>
public static class ReviewArguments
{
    public const int MaxComment = 2000;
    public const int MaxIds = 1000;
    private const int MaxIdLength = 512;

    public static string State(string value) =>
        ReviewStates.IsValid(value) ? value
        : throw ApiArguments.Invalid($"state: must be one of {string.Join(", ", ReviewStates.All)}, got '{value}'");

    /// <summary>The review_state search filter: empty for none.</summary>
    public static string? StateFilter(string value, string field) =>
        value.Length == 0 ? null
        : ReviewStates.IsValid(value) ? value
        : throw ApiArguments.Invalid($"{field}: must be one of {string.Join(", ", ReviewStates.All)}, got '{value}'");

    public static string? Comment(string value) =>
        value.Length == 0 ? null
        : value.Length > MaxComment ? throw ApiArguments.Invalid($"comment: must be at most {MaxComment} characters, got {value.Length}")
        : ApiArguments.NoNul(value, "comment");

    /// <summary>The ids, each once, in the order given.</summary>
    public static IReadOnlyList<string> Ids(IReadOnlyList<string> ids)
    {
        if (ids.Count > MaxIds)
        {
            throw ApiArguments.Invalid($"alert_ids: at most {MaxIds} per call, got {ids.Count} (review by search with filter instead)");
        }
        foreach (var id in ids)
        {
            if (id.Length is 0 or > MaxIdLength || id.Contains('\0'))
            {
                throw ApiArguments.Invalid($"alert_ids: '{(id.Length > 64 ? id[..64] + "..." : id)}' is not an alert id");
            }
        }
        return [.. ids.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Whether a search names something besides its time range, so a bulk review cannot cover the whole store by accident.</summary>
    public static bool Narrows(AlertQuery q) =>
        q.AgentId is not null || q.Host is not null || q.Path is not null || q.MinLevel is not null || q.MaxLevel is not null
        || q.RuleId is not null || q.Kind is not null || q.Source is not null || q.Actor is not null || q.Namespace is not null || q.Pod is not null
        || q.ReviewState is not null || q.Selector is not null || q.PackageUpdate is not null || q.Package is not null;

    public static V1.AlertReview ToProto(StoredReview review) => new()
    {
        State = review.State,
        Reviewer = review.Reviewer,
        ReviewedAt = Timestamp.FromDateTimeOffset(Micros.ToTime(review.ReviewedAtMicros)),
        Comment = review.Comment ?? "",
    };
}

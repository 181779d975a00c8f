namespace Fim.Manager.Store;

/// <summary>An alert's review as the store keeps it (table alert_reviews, one row per reviewed alert).</summary>
public sealed record StoredReview(string State, string Reviewer, long ReviewedAtMicros, string? Comment);

/// <summary>The review states. An alert without a review row is <see cref="New"/>.</summary>
public static class ReviewStates
{
    public const string New = "new";
    public const string Expected = "expected";
    public const string Incident = "incident";
    public const string FalsePositive = "false_positive";

    public static readonly IReadOnlyList<string> All = [New, Expected, Incident, FalsePositive];

    public static bool IsValid(string? state) => state is not null && All.Contains(state, StringComparer.Ordinal);
}

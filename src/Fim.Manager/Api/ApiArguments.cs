using Fim.Contracts;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Fim.Manager.Api;

/// <summary>
/// Checks API arguments. Every refusal is InvalidArgument (HTTP 400 through transcoding) whose message starts with the
/// field's name, e.g. "limit: must be 1..1000".
/// </summary>
public static class ApiArguments
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    public static readonly TimeSpan DefaultAlertSpan = TimeSpan.FromHours(24);

    public static string AgentId(string value, bool required = true)
    {
        if (string.IsNullOrEmpty(value))
        {
            return required ? throw Invalid("agent_id: is required") : "";
        }
        return Subjects.IsValidAgentId(value) ? value : throw Invalid("agent_id: must match [a-z0-9_-]+ (at most 128 characters)");
    }

    public static int Limit(bool hasLimit, int limit) =>
        !hasLimit ? DefaultLimit
        : limit is >= 1 and <= MaxLimit ? limit
        : throw Invalid($"limit: must be 1..{MaxLimit}, got {limit}");

    public static int MinLevel(bool hasMinLevel, int minLevel) =>
        !hasMinLevel ? 0
        : minLevel is >= 0 and <= 15 ? minLevel
        : throw Invalid($"min_level: must be 0..15, got {minLevel}");

    /// <summary>Earliest time a query may name: JetStream keeps Unix times, and takes the zero time for "no start time".</summary>
    public static readonly DateTimeOffset MinTime = DateTimeOffset.UnixEpoch;

    /// <summary>Latest time a query may name: far enough for any real query, far enough from the end of the calendar for arithmetic.</summary>
    public static readonly DateTimeOffset MaxTime = new(9000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Any path the pipeline accepts (<see cref="EventLimits.MaxPathLength"/>), absolute.</summary>
    public static string Path(string path) =>
        string.IsNullOrEmpty(path) ? throw Invalid("path: is required")
        : path.Length > EventLimits.MaxPathLength ? throw Invalid($"path: must be at most {EventLimits.MaxPathLength} characters, got {path.Length}")
        : !path.StartsWith('/') ? throw Invalid("path: must be absolute (start with '/')")
        : NoNul(path, "path");

    /// <summary>
    /// Refuses a NUL: no path, name, label or comment holds one, and PostgreSQL text cannot, so it is named here rather
    /// than failing in the store.
    /// </summary>
    public static string NoNul(string value, string field) =>
        value.Contains('\0', StringComparison.Ordinal)
            ? throw Invalid($"{field}: must not contain a NUL character (at index {value.IndexOf('\0', StringComparison.Ordinal)})")
            : value;

    /// <summary>The alert time range: until defaults to now, since to 24 hours before until; since must be before until.</summary>
    public static (DateTimeOffset Since, DateTimeOffset Until) Range(Timestamp? since, Timestamp? until, DateTimeOffset now)
    {
        var end = until is null ? now : Time(until, "until");
        var start = since is null ? (end - MinTime > DefaultAlertSpan ? end - DefaultAlertSpan : MinTime) : Time(since, "since");
        return start < end ? (start, end) : throw Invalid("since: must be before until");
    }

    public static DateTimeOffset Time(Timestamp value, string field)
    {
        DateTimeOffset time;
        try
        {
            time = value.ToDateTimeOffset();
        }
        catch (InvalidOperationException)
        {
            throw Invalid($"{field}: is not a valid timestamp");
        }
        return time < MinTime || time > MaxTime
            ? throw Invalid($"{field}: must be between {MinTime:yyyy-MM-ddTHH:mm:ssZ} and {MaxTime:yyyy-MM-ddTHH:mm:ssZ}, got {time:yyyy-MM-ddTHH:mm:ssZ}")
            : time;
    }

    public static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}

using V1 = Fim.Api.V1;
using Fim.Contracts;
using Fim.Manager.Store;

namespace Fim.Manager.Api;

/// <summary>
/// The alert search filters of a request, checked: each refusal is InvalidArgument naming the field (HTTP 400).
/// Values are only ever bound as parameters; path patterns are matched literally except for the glob's own wildcards.
/// </summary>
public static class AlertFilters
{
    private const int MaxValue = 1024;
    public const int MaxSelector = 4096;
    public const int MaxPackage = 256;
    public const long DefaultBucketSeconds = 3600;
    public const long MinBucketSeconds = 60;
    public const long MaxBucketSeconds = 30L * 24 * 3600;
    public const long MaxBuckets = 10_000;

    /// <summary>The filters of <paramref name="r"/>; a nested filter's errors name the field with <paramref name="field"/> before it ("filter.").</summary>
    public static AlertQuery From(V1.ListAlertsRequest r, DateTimeOffset now, string field = "")
    {
        if (field.Length == 0)
        {
            return Parse(r, now, "");
        }
        try
        {
            return Parse(r, now, field);
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.InvalidArgument && !e.Status.Detail.StartsWith(field, StringComparison.Ordinal))
        {
            throw ApiArguments.Invalid(field + e.Status.Detail);
        }
    }

    private static AlertQuery Parse(V1.ListAlertsRequest r, DateTimeOffset now, string field)
    {
        var (since, until) = ApiArguments.Range(r.Since, r.Until, now);
        var minLevel = ApiArguments.MinLevel(r.HasMinLevel, r.MinLevel);
        int? maxLevel = !r.HasMaxLevel ? null
            : r.MaxLevel is >= 0 and <= 15 ? r.MaxLevel
            : throw ApiArguments.Invalid($"{field}max_level: must be 0..15, got {r.MaxLevel}");
        if (maxLevel < minLevel)
        {
            throw ApiArguments.Invalid($"{field}max_level: must not be below min_level ({maxLevel} < {minLevel})");
        }
        var paths = new[] { (r.Path, PathMatch.Exact, "path"), (r.PathPrefix, PathMatch.Prefix, "path_prefix"), (r.PathGlob, PathMatch.Glob, "path_glob") }
            .Where(p => p.Item1.Length > 0).ToList();
        if (paths.Count > 1)
        {
            throw ApiArguments.Invalid($"{field}{paths[1].Item3}: give at most one of path, path_prefix and path_glob");
        }
        string? path = null;
        var match = PathMatch.Exact;
        if (paths.Count == 1)
        {
            (path, match, var name) = paths[0];
            ApiArguments.NoNul(path, field + name);
            if (path.Length > EventLimits.MaxPathLength)
            {
                throw ApiArguments.Invalid($"{field}{name}: must be at most {EventLimits.MaxPathLength} characters, got {path.Length}");
            }
            if (match == PathMatch.Glob && PathPattern.TryParseGlob(path, out var error) is null)
            {
                throw ApiArguments.Invalid($"{field}{name}: is not a valid glob: {error}");
            }
        }
        return new AlertQuery
        {
            Since = since,
            Until = until,
            AgentId = Optional(ApiArguments.AgentId(r.AgentId, required: false)),
            Host = Text(r.Host, field + "host"),
            Path = path,
            PathMatch = match,
            MinLevel = minLevel > 0 ? minLevel : null,
            MaxLevel = maxLevel,
            RuleId = Text(r.RuleId, field + "rule_id"),
            Kind = Text(r.Kind, field + "kind"),
            Source = Text(r.Source, field + "source"),
            Actor = Text(r.Actor, field + "actor"),
            Namespace = Text(r.Namespace, field + "namespace"),
            Pod = Text(r.Pod, field + "pod"),
            ReviewState = ReviewArguments.StateFilter(r.ReviewState, field + "review_state"),
            Selector = Selector(r.Selector, field + "selector"),
            PackageUpdate = r.HasPackageUpdate ? r.PackageUpdate : null,
            Package = r.Package.Length == 0 ? null
                : r.Package.Length > MaxPackage ? throw ApiArguments.Invalid($"{field}package: must be at most {MaxPackage} characters, got {r.Package.Length}")
                : ApiArguments.NoNul(r.Package, field + "package"),
            After = Cursor(r.Cursor, field + "cursor"),
            // Counts (a nested filter) take no page size.
            Limit = field.Length == 0 ? ApiArguments.Limit(r.HasLimit, r.Limit) : ApiArguments.DefaultLimit,
        };
    }

    /// <summary>The label selector filter (the syntax of the compliance report and fleet query); null when empty.</summary>
    public static LabelSelector? Selector(string text, string field)
    {
        if (text.Length > MaxSelector)
        {
            throw ApiArguments.Invalid($"{field}: must be at most {MaxSelector} characters, got {text.Length}");
        }
        if (text.Trim().Length == 0)
        {
            return null;
        }
        try
        {
            return Fleet.FleetArguments.Selector(text);
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.InvalidArgument)
        {
            // FleetArguments names it "selector:"; nested in a count or review it is "filter.selector:".
            throw ApiArguments.Invalid(field + e.Status.Detail["selector".Length..]);
        }
    }

    public static AlertCursor? Cursor(string token, string field) =>
        token.Length == 0 ? null
        : AlertCursor.TryDecode(token, out var cursor) ? cursor
        : throw ApiArguments.Invalid($"{field}: is malformed (pass next_cursor of the previous page unchanged)");

    public static CountKey GroupBy(string value) => value switch
    {
        "level" or "" => CountKey.Level,
        "rule" => CountKey.Rule,
        "agent" => CountKey.Agent,
        "namespace" => CountKey.Namespace,
        _ => throw ApiArguments.Invalid($"group_by: must be level, rule, agent or namespace, got '{value}'"),
    };

    public static TimeSpan Bucket(bool has, long seconds, AlertQuery range)
    {
        var s = has ? seconds : DefaultBucketSeconds;
        if (s is < MinBucketSeconds or > MaxBucketSeconds)
        {
            throw ApiArguments.Invalid($"bucket_seconds: must be {MinBucketSeconds}..{MaxBucketSeconds}, got {s}");
        }
        var buckets = (range.Until!.Value - range.Since!.Value).TotalSeconds / s;
        return buckets > MaxBuckets
            ? throw ApiArguments.Invalid($"bucket_seconds: the range holds {buckets:0} buckets of {s} s, at most {MaxBuckets}: widen the bucket or narrow the range")
            : TimeSpan.FromSeconds(s);
    }

    private static string? Optional(string value) => value.Length == 0 ? null : value;

    private static string? Text(string value, string field) =>
        value.Length == 0 ? null
        : value.Length > MaxValue ? throw ApiArguments.Invalid($"{field}: must be at most {MaxValue} characters, got {value.Length}")
        : ApiArguments.NoNul(value, field);
}

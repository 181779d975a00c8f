using V1 = Fim.Api.V1;
using System.Globalization;
using System.Text;
using Fim.Manager.Api;
using Fim.Manager.Store;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Fim.Manager.WebConsole;

/// <summary>
/// The alerts page's search as it stands in the URL, under the REST API's parameter names (so a link reproduces a
/// search, and reads like the API's). It becomes the API's ListAlertsRequest and is checked by the API's own filters;
/// a refusal names the URL parameter at fault.
/// </summary>
public sealed record AlertSearch
{
    public const string Exact = "exact";
    public const string Prefix = "prefix";
    public const string Glob = "glob";
    public const int PageSize = 50;

    public string? AgentId { get; init; }
    public string? Path { get; init; }
    /// <summary>exact, prefix or glob: which of path, pathPrefix and pathGlob <see cref="Path"/> goes to.</summary>
    public string PathMode { get; init; } = Exact;
    public string? MinLevel { get; init; }
    public string? MaxLevel { get; init; }
    public string? RuleId { get; init; }
    public string? ReviewState { get; init; }
    public string? Since { get; init; }
    public string? Until { get; init; }
    public string? Cursor { get; init; }

    /// <summary>More than one path parameter in a URL is kept so the check can refuse it.</summary>
    public int PathParameters { get; init; }

    /// <summary>Live updates make sense for the newest page of an open-ended search.</summary>
    public bool IsLive => string.IsNullOrEmpty(Cursor) && string.IsNullOrEmpty(Until);

    public static AlertSearch FromQuery(string? agentId, string? path, string? pathPrefix, string? pathGlob, string? minLevel, string? maxLevel,
        string? ruleId, string? reviewState, string? since, string? until, string? cursor)
    {
        var paths = new[] { (path, Exact), (pathPrefix, Prefix), (pathGlob, Glob) }.Where(p => !string.IsNullOrEmpty(p.Item1)).ToList();
        return new AlertSearch
        {
            AgentId = agentId,
            Path = paths.Count > 0 ? paths[0].Item1 : null,
            PathMode = paths.Count > 0 ? paths[0].Item2 : Exact,
            PathParameters = paths.Count,
            MinLevel = minLevel,
            MaxLevel = maxLevel,
            RuleId = ruleId,
            ReviewState = reviewState,
            Since = since,
            Until = until,
            Cursor = cursor,
        };
    }

    /// <summary>The API request of this search, or the first problem, naming its URL parameter.</summary>
    public (V1.ListAlertsRequest? Request, AlertQuery? Query, string? Error) Check(DateTimeOffset now)
    {
        try
        {
            if (PathParameters > 1)
            {
                return (null, null, "pathPrefix: give at most one of path, pathPrefix and pathGlob");
            }
            var r = new V1.ListAlertsRequest
            {
                AgentId = AgentId ?? "",
                RuleId = RuleId ?? "",
                ReviewState = ReviewState ?? "",
                Cursor = Cursor ?? "",
                Limit = PageSize,
            };
            switch (PathMode)
            {
                case Prefix: r.PathPrefix = Path ?? ""; break;
                case Glob: r.PathGlob = Path ?? ""; break;
                default: r.Path = Path ?? ""; break;
            }
            if (Level(MinLevel, "minLevel") is { } min)
            {
                r.MinLevel = min;
            }
            if (Level(MaxLevel, "maxLevel") is { } max)
            {
                r.MaxLevel = max;
            }
            if (Time(Since, "since", now) is { } since)
            {
                r.Since = Timestamp.FromDateTimeOffset(since);
            }
            if (Time(Until, "until", now) is { } until)
            {
                r.Until = Timestamp.FromDateTimeOffset(until);
            }
            return (r, AlertFilters.From(r, now), null);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
        {
            return (null, null, UrlNames(e.Status.Detail));
        }
        catch (FormatException e)
        {
            return (null, null, e.Message);
        }
    }

    /// <summary>This search as a console URL; <paramref name="cursor"/> replaces the page.</summary>
    public string ToUrl(string? cursor = null)
    {
        var parameters = new List<(string, string?)>
        {
            ("agentId", AgentId),
            (PathMode switch { Prefix => "pathPrefix", Glob => "pathGlob", _ => "path" }, Path),
            ("minLevel", MinLevel),
            ("maxLevel", MaxLevel),
            ("ruleId", RuleId),
            ("reviewState", ReviewState),
            ("since", Since),
            ("until", Until),
            ("cursor", cursor),
        };
        var query = string.Join("&", parameters.Where(p => !string.IsNullOrEmpty(p.Item2)).Select(p => p.Item1 + "=" + Uri.EscapeDataString(p.Item2!)));
        return "console/alerts" + (query.Length > 0 ? "?" + query : "");
    }

    private static int? Level(string? text, string name) =>
        string.IsNullOrEmpty(text) ? null
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var level) ? level
        : throw new FormatException($"{name}: '{Shorten(text)}' is not a whole number (levels are 0..15)");

    /// <summary>RFC 3339 (2026-03-01T12:00:00Z), or a time before now: 30m, 12h, 7d.</summary>
    private static DateTimeOffset? Time(string? text, string name, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        if (text.Length >= 2 && char.IsAsciiDigit(text[0]) && "smhd".Contains(text[^1], StringComparison.Ordinal)
            && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 36_500L * 24 * 3600)
        {
            var ago = text[^1] switch { 's' => TimeSpan.FromSeconds(n), 'm' => TimeSpan.FromMinutes(n), 'h' => TimeSpan.FromHours(n), _ => TimeSpan.FromDays(n) };
            return now - ago;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            && time.Year is >= 1970 and < 9000)
        {
            return time.ToUniversalTime();
        }
        throw new FormatException($"{name}: '{Shorten(text)}' is not a time: give RFC 3339 (2026-03-01T12:00:00Z) or a time ago such as 30m, 12h or 7d");
    }

    /// <summary>The API names a field as the proto does (min_level); the URL as REST does (minLevel).</summary>
    private static string UrlNames(string message)
    {
        var colon = message.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return message;
        }
        var field = new StringBuilder();
        var upper = false;
        foreach (var c in message[..colon])
        {
            if (c == '_')
            {
                upper = true;
                continue;
            }
            field.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        return field + message[colon..];
    }

    private static string Shorten(string text) => text.Length > 64 ? text[..64] + "..." : text;
}

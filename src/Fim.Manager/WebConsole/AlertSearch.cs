using V1 = Fim.Api.V1;
using System.Globalization;
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
    public string? Host { get; init; }
    public string? Kind { get; init; }
    /// <summary>scan, realtime, falco, prowler or json.</summary>
    public string? Source { get; init; }
    public string? Actor { get; init; }
    public string? Namespace { get; init; }
    public string? Pod { get; init; }
    public string? Selector { get; init; }
    public string? Package { get; init; }
    /// <summary>true or false: only alerts a package update explains, or only those it does not.</summary>
    public string? PackageUpdate { get; init; }

    /// <summary>More than one path parameter in a URL is kept so the check can refuse it.</summary>
    public int PathParameters { get; init; }

    /// <summary>Live updates make sense for the newest page of an open-ended search.</summary>
    public bool IsLive => string.IsNullOrEmpty(Cursor) && string.IsNullOrEmpty(Until);

    /// <summary>This search with the URL's path parameter (path, pathPrefix or pathGlob; more than one is kept to be refused).</summary>
    public AlertSearch WithPath(string? path, string? pathPrefix, string? pathGlob)
    {
        var paths = new[] { (path, Exact), (pathPrefix, Prefix), (pathGlob, Glob) }.Where(p => !string.IsNullOrEmpty(p.Item1)).ToList();
        return this with
        {
            Path = paths.Count > 0 ? paths[0].Item1 : null,
            PathMode = paths.Count > 0 ? paths[0].Item2 : Exact,
            PathParameters = paths.Count,
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
                Host = Host ?? "",
                Kind = Kind ?? "",
                Source = Source ?? "",
                Actor = Actor ?? "",
                Namespace = Namespace ?? "",
                Pod = Pod ?? "",
                Selector = Selector ?? "",
                Package = Package ?? "",
            };
            if (!string.IsNullOrEmpty(PackageUpdate))
            {
                r.PackageUpdate = PackageUpdate switch
                {
                    "true" => true,
                    "false" => false,
                    _ => throw new FormatException($"packageUpdate: '{ConsoleParameters.Shorten(PackageUpdate)}' is not true or false"),
                };
            }
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
            if (ConsoleParameters.Time(Since, "since", now) is { } since)
            {
                r.Since = Timestamp.FromDateTimeOffset(since);
            }
            if (ConsoleParameters.Time(Until, "until", now) is { } until)
            {
                r.Until = Timestamp.FromDateTimeOffset(until);
            }
            return (r, AlertFilters.From(r, now), null);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
        {
            return (null, null, ConsoleParameters.UrlNames(e.Status.Detail));
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
            ("host", Host),
            ("kind", Kind),
            ("source", Source),
            ("actor", Actor),
            ("namespace", Namespace),
            ("pod", Pod),
            ("selector", Selector),
            ("package", Package),
            ("packageUpdate", PackageUpdate),
            ("cursor", cursor),
        };
        return ConsoleParameters.Url("console/alerts", parameters);
    }

    private static int? Level(string? text, string name) =>
        string.IsNullOrEmpty(text) ? null
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var level) ? level
        : throw new FormatException($"{name}: '{ConsoleParameters.Shorten(text)}' is not a whole number (levels are 0..15)");
}

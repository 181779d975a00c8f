using System.CommandLine;
using Fim.Api.V1;
using Google.Protobuf.WellKnownTypes;

namespace Fim.Ctl;

/// <summary>The alert search filters shared by `alerts` and `alert-counts`; the manager checks every value.</summary>
internal sealed class AlertFilterOptions
{
    private readonly Option<string?> _agent = new("--agent", "-a") { Description = "Only this agent's alerts." };
    private readonly Option<int?> _minLevel = new("--min-level", "-l") { Description = "Only alerts at this level (0-15) or above." };
    private readonly Option<int?> _maxLevel = new("--max-level") { Description = "Only alerts at this level (0-15) or below." };
    private readonly Option<string?> _since = new("--since") { Description = "Start: a time (2024-05-01T10:00:00Z) or an age (30m, 2h, 7d). Default: 24h before --until." };
    private readonly Option<string?> _until = new("--until") { Description = "End: a time or an age. Default: now." };
    private readonly Option<string?> _host = new("--host") { Description = "Only this host." };
    private readonly Option<string?> _path = new("--path") { Description = "Only this path, exactly (every agent's history of it)." };
    private readonly Option<string?> _prefix = new("--path-prefix") { Description = "Only paths starting with this (taken literally)." };
    private readonly Option<string?> _glob = new("--path-glob") { Description = "Only paths matching this glob ('*' any characters, '?' one, '\\' escapes)." };
    private readonly Option<string?> _rule = new("--rule") { Description = "Only this rule id." };
    private readonly Option<string?> _kind = new("--kind") { Description = "Only this kind (added, modified, attributes, deleted, ...)." };
    private readonly Option<string?> _source = new("--source") { Description = "Only alerts from this source: scan or realtime (file changes), falco, prowler or json (security records)." };
    private readonly Option<string?> _actor = new("--actor") { Description = "Only changes by this executable or user." };
    private readonly Option<string?> _namespace = new("--namespace") { Description = "Only changes in this Kubernetes namespace." };
    private readonly Option<string?> _pod = new("--pod") { Description = "Only changes in this pod." };
    private readonly Option<string?> _selector = new("--selector") { Description = "Only alerts whose agent labels (as the alert carries them) match this selector: env=prod,tier in (web,api),!canary." };
    private readonly Option<string?> _package = new("--package") { Description = "Only changes to files of this package, exactly." };
    private readonly Option<bool?> _packageUpdate = new("--package-update") { Description = "true: only changes a package update explains (package verified); false: every other change." };
    private readonly Option<string?> _reviewState = new("--review-state") { Description = "Only alerts in this review state: new (unreviewed), expected, incident, false_positive." };

    public void AddTo(Command command)
    {
        foreach (var option in (System.CommandLine.Option[])[.. Options])
        {
            command.Options.Add(option);
        }
    }

    private System.CommandLine.Option[] Options => [_agent, _minLevel, _maxLevel, _since, _until, _host, _path, _prefix, _glob, _rule, _kind, _source, _actor, _namespace, _pod, _reviewState, _selector, _package, _packageUpdate];

    /// <summary>Whether any filter was given on the command line.</summary>
    public bool AnyGiven(ParseResult parse) => Options.Any(o => parse.GetResult(o) is not null);

    public ListAlertsRequest Request(ParseResult parse, DateTimeOffset now)
    {
        var request = new ListAlertsRequest
        {
            AgentId = parse.GetValue(_agent) ?? "",
            Host = parse.GetValue(_host) ?? "",
            Path = parse.GetValue(_path) ?? "",
            PathPrefix = parse.GetValue(_prefix) ?? "",
            PathGlob = parse.GetValue(_glob) ?? "",
            RuleId = parse.GetValue(_rule) ?? "",
            Kind = parse.GetValue(_kind) ?? "",
            Source = parse.GetValue(_source) ?? "",
            Actor = parse.GetValue(_actor) ?? "",
            Namespace = parse.GetValue(_namespace) ?? "",
            Pod = parse.GetValue(_pod) ?? "",
            ReviewState = parse.GetValue(_reviewState) ?? "",
            Selector = parse.GetValue(_selector) ?? "",
            Package = parse.GetValue(_package) ?? "",
        };
        if (parse.GetValue(_packageUpdate) is { } packageUpdate)
        {
            request.PackageUpdate = packageUpdate;
        }
        if (parse.GetValue(_minLevel) is { } min)
        {
            request.MinLevel = min;
        }
        if (parse.GetValue(_maxLevel) is { } max)
        {
            request.MaxLevel = max;
        }
        if (parse.GetValue(_since) is { } s)
        {
            request.Since = Timestamp.FromDateTimeOffset(Time(s, now, "--since"));
        }
        if (parse.GetValue(_until) is { } u)
        {
            request.Until = Timestamp.FromDateTimeOffset(Time(u, now, "--until"));
        }
        return request;
    }

    private static DateTimeOffset Time(string text, DateTimeOffset now, string option) =>
        TimeArgument.TryParse(text, now, out var time) ? time : throw new UsageException($"{option}: '{text}' is neither a time nor an age like 2h");
}

using System.Text;
using Fim.Contracts;
using Fim.Core.Model;
using Fim.Core.Rules;
using Fim.Manager.Agents;

namespace Fim.Manager.Pipeline;

/// <summary>
/// Enriches a valid event with what the manager knows about its agent (labels from the heartbeat) and runs the rules
/// (user files first, then the defaults). An agent without a heartbeat is still judged, with no labels, and its
/// alert carries the tag "unknown-agent": dropping its events would hide exactly the host nobody enrolled.
/// </summary>
public sealed class EventJudge(RuleSet rules, AgentDirectory agents, Maintenance.MaintenanceWindows? maintenance = null)
{
    public const string UnknownAgentTag = "unknown-agent";

    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();
    private static readonly AlertContext NoContext = new(NoLabels, null, []);

    public Judgement Judge(FileEvent e)
    {
        var known = agents.TryGet(e.AgentId, out var agent);
        var labels = known ? agent.Labels : NoLabels;
        ChangeKindNames.TryParse(e.Kind, out var kind);
        var path = e.PathBase64 is { } b64 ? Convert.FromBase64String(b64) : Encoding.UTF8.GetBytes(e.Path);
        var change = new FileChange(kind, path, null, null, ChangedAttributeNames.Parse(e.Changed), e.Source == "scan" ? DetectionSource.Scan : DetectionSource.Realtime,
            e.ObservedAt, e.Policy);
        var alert = rules.Evaluate(change, e, known ? agent.RuleContext : NoContext);
        if (alert is not null)
        {
            if (labels.Count > 0)
            {
                alert.Labels = new Dictionary<string, string>(labels, StringComparer.Ordinal);
            }
            if (!known && !Subjects.IsIngestAgentId(e.AgentId))
            {
                alert.Tags.Add(UnknownAgentTag);
            }
            maintenance?.Apply(alert, labels);
        }
        return new Judgement(alert, known);
    }
}

public readonly record struct Judgement(Alert? Alert, bool KnownAgent);

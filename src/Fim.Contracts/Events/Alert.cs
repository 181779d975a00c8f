using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>The rule that turned an event into an alert.</summary>
public sealed class RuleRef
{
    public string Id { get; set; } = "";
    public int Level { get; set; }
    public string Description { get; set; } = "";
}

/// <summary>An event judged by a rule: the event's fields plus rule, level (0-15 like Wazuh) and tags.</summary>
public sealed class Alert : FileEvent, IAlertIndexFields
{
    /// <summary>
    /// The tag of an alert that is stored and searchable but sent to no sink (a passed Prowler check): a rule with
    /// <c>notify: false</c> adds it.
    /// </summary>
    public const string StoredOnlyTag = "stored-only";

    public string AlertId { get; set; } = "";
    public RuleRef Rule { get; set; } = new();
    public int Level { get; set; }
    /// <summary>Compliance references such as "pci_dss:11.5", "nist_800_53:SI.7".</summary>
    public List<string> Compliance { get; set; } = [];
    /// <summary>Free tags from the policy and the rule.</summary>
    public List<string> Tags { get; set; } = [];
    /// <summary>The agent's labels from its heartbeat, added by the manager; absent when it has none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, string>? Labels { get; set; }

    /// <summary>The alert for <paramref name="e"/>; <paramref name="compliance"/> and <paramref name="tags"/> are taken as they are (distinct).</summary>
    public static Alert For(FileEvent e, RuleRef rule, int level, IReadOnlyCollection<string> compliance, IReadOnlyCollection<string> tags)
    {
        var a = new Alert
        {
            SchemaVersion = e.SchemaVersion,
            EventId = e.EventId,
            AgentId = e.AgentId,
            Host = e.Host,
            Policy = e.Policy,
            Path = e.Path,
            PathBase64 = e.PathBase64,
            Kind = e.Kind,
            Changed = e.Changed,
            Before = e.Before,
            After = e.After,
            Source = e.Source,
            ObservedAt = e.ObservedAt,
            PublishedAt = e.PublishedAt,
            Diff = e.Diff,
            DiffInfo = e.DiffInfo,
            Growth = e.Growth,
            Flapping = e.Flapping,
            Actor = e.Actor,
            Container = e.Container,
            Reset = e.Reset,
            Package = e.Package,
            Record = e.Record,
            // Derived from the event id, so a redelivered event can never make a second, different alert.
            AlertId = $"{e.EventId}/{rule.Id}",
            Rule = rule,
            Level = level,
            Compliance = [.. compliance],
            Tags = [.. tags],
        };
        return a;
    }
}

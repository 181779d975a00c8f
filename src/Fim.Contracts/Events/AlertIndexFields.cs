namespace Fim.Contracts;

/// <summary>What an alert store takes from an alert besides its JSON: the searchable fields, on an alert and on its projection.</summary>
public interface IAlertIndexFields
{
    string AlertId { get; }
    string AgentId { get; }
    string Host { get; }
    string Path { get; }
    string Kind { get; }
    string Source { get; }
    string? Policy { get; }
    int Level { get; }
    RuleRef Rule { get; }
    DateTimeOffset ObservedAt { get; }
    Actor? Actor { get; }
    Workload? Container { get; }
    PackageInfo? Package { get; }
    Dictionary<string, string>? Labels { get; }
}

/// <summary>
/// An alert read for indexing only: the <see cref="IAlertIndexFields"/> of the same JSON as <see cref="Alert"/>, the
/// rest skipped unread. The state before and after, the lists and a diff are most of an alert's bytes and objects, and
/// an indexer reading tens of thousands of alerts a second spends its time allocating them and collecting them again.
/// </summary>
public sealed class AlertIndexFields : IAlertIndexFields
{
    public string AlertId { get; set; } = "";
    public string AgentId { get; set; } = "";
    public string Host { get; set; } = "";
    public string Path { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Source { get; set; } = "";
    public string? Policy { get; set; }
    public int Level { get; set; }
    public RuleRef Rule { get; set; } = new();
    public DateTimeOffset ObservedAt { get; set; }
    public Actor? Actor { get; set; }
    public Workload? Container { get; set; }
    public PackageInfo? Package { get; set; }
    public Dictionary<string, string>? Labels { get; set; }
}

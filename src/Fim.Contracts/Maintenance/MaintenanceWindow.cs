using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// A maintenance window as KV fim-maintenance keeps it (key = <see cref="Id"/>): while it is open, alerts of the agents
/// it selects are lowered by <see cref="LevelReduction"/> and tagged maintenance:&lt;id&gt;. Nothing is hidden: the
/// agents' baselines and the event and alert streams are untouched. Written by the managers' API, read by every manager.
/// </summary>
public sealed class MaintenanceWindow
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>The tag an alert raised during window <paramref name="id"/> carries.</summary>
    public static string Tag(string id) => $"maintenance:{id}";

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    /// <summary>"mw-" and 12 lower-case hex digits; the KV key.</summary>
    public string Id { get; set; } = "";
    public DateTimeOffset Start { get; set; }
    /// <summary>The planned end; <see cref="EndedAt"/> may close the window earlier.</summary>
    public DateTimeOffset End { get; set; }
    /// <summary>The agents it covers, by their labels; empty: every agent.</summary>
    public Dictionary<string, string> MatchLabels { get; set; } = [];
    public string Reason { get; set; } = "";
    /// <summary>How many levels alerts drop during the window (a level never drops below 1).</summary>
    public int LevelReduction { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Set when someone ended the window before <see cref="End"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? EndedAt { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EndedBy { get; set; }

    /// <summary>When set, the window covers only these agents (and still only those <see cref="MatchLabels"/> selects).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? AgentIds { get; set; }
    /// <summary>The Kubernetes node whose hold-off this window is (cordoned or annotated fim.io/maintenance); the operator writes and ends it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Node { get; set; }
    /// <summary>What happens when the window closes: <see cref="OnEndSummary"/> (a manager reports what changed during it), or nothing when null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OnEnd { get; set; }
    /// <summary>When a manager sent the window's summary (so it is sent once).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? SummarizedAt { get; set; }

    /// <summary>The <see cref="OnEnd"/> value asking for a summary of the window's alerts once it closes.</summary>
    public const string OnEndSummary = "summary";

    /// <summary>When the window closes (or closed): the earlier of its planned end and when it was ended.</summary>
    [JsonIgnore]
    public DateTimeOffset ClosesAt => EndedAt is { } ended && ended < End ? ended : End;

    /// <summary>Whether a change observed at <paramref name="time"/> falls inside the window.</summary>
    public bool IsOpenAt(DateTimeOffset time) => Start <= time && time < ClosesAt;

    /// <summary>Whether the window covers an agent with <paramref name="labels"/>.</summary>
    public bool Covers(IReadOnlyDictionary<string, string> labels) => MatchLabels.All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value);

    /// <summary>Whether the window covers agent <paramref name="agentId"/> with <paramref name="labels"/>.</summary>
    public bool Covers(string agentId, IReadOnlyDictionary<string, string> labels) =>
        (AgentIds is not { Count: > 0 } ids || ids.Contains(agentId, StringComparer.Ordinal)) && Covers(labels);
}

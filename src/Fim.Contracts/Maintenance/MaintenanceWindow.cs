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

    /// <summary>When the window closes (or closed): the earlier of its planned end and when it was ended.</summary>
    [JsonIgnore]
    public DateTimeOffset ClosesAt => EndedAt is { } ended && ended < End ? ended : End;

    /// <summary>Whether a change observed at <paramref name="time"/> falls inside the window.</summary>
    public bool IsOpenAt(DateTimeOffset time) => Start <= time && time < ClosesAt;

    /// <summary>Whether the window covers an agent with <paramref name="labels"/>.</summary>
    public bool Covers(IReadOnlyDictionary<string, string> labels) => MatchLabels.All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value);
}

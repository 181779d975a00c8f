using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// A completed scan of one policy on one agent, version 1: the evidence that a comparison ran. Published by the
/// connected agent through its durable outbox to fim.scans.&lt;agentId&gt; (stream FIM_SCANS) with Nats-Msg-Id =
/// <see cref="MessageId"/>, stored by the managers (table scans) and read by the scans API and the compliance report.
/// </summary>
public sealed record ScanRecord
{
    public const int CurrentSchemaVersion = 1;

    public const string ResultClean = "clean";
    public const string ResultChanged = "changed";
    public const string ResultError = "error";

    /// <summary>Outbox message ids of scan records start with this; event ids (&lt;agentId&gt;:...) never do, since '/' is no agent id character.</summary>
    public const string MessageIdPrefix = "scan/";

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    /// <summary>Random, chosen by the agent when the scan ends: the store is idempotent by it, and JetStream deduplicates on it.</summary>
    public required string ScanId { get; init; }
    public required string AgentId { get; init; }
    public required string Host { get; init; }
    /// <summary>The agent's labels when it scanned (what scoped API callers and report selectors see).</summary>
    public required IReadOnlyDictionary<string, string> Labels { get; init; }
    /// <summary>Policy name (namespace/name, or a local policy's name).</summary>
    public required string Policy { get; init; }
    public required long PolicyRevision { get; init; }
    /// <summary>
    /// Why it ran, as the agent names it: startup, schedule, full-verify, command (TriggerScan, fimctl scan),
    /// outbox-recovered (a rescan after the outbox refused changes).
    /// </summary>
    public required string Trigger { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    public required double DurationMs { get; init; }
    public required long Files { get; init; }
    public required long Directories { get; init; }
    public required long BytesHashed { get; init; }
    public required int Added { get; init; }
    /// <summary>Content, attribute and type changes (every change that is neither an addition nor a removal).</summary>
    public required int Changed { get; init; }
    public required int Removed { get; init; }
    /// <summary>Entries that could not be examined (unreadable, vanished while read), plus 1 when the scan failed as a whole.</summary>
    public required int Errors { get; init; }
    /// <summary>clean (no change, no error), changed (changes, no error) or error (some entries or the whole scan failed).</summary>
    public required string Result { get; init; }
    /// <summary>
    /// The sealed baseline's digest (hex SHA-256 of the snapshot MAC and the journal head MAC) once the scan's changes
    /// were committed, before this record was queued. Empty when the policy has no baseline yet.
    /// </summary>
    public required string BaselineDigest { get; init; }
    /// <summary>The policy's scheduled rescan interval: the report's expected longest gap between scans.</summary>
    public required long ScheduleSeconds { get; init; }
    /// <summary>Why the scan failed as a whole (result error), else absent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Failure { get; init; }

    [JsonIgnore]
    public string MessageId => MessageIdPrefix + ScanId;

    public static string ResultOf(int changes, int errors) => errors > 0 ? ResultError : changes > 0 ? ResultChanged : ResultClean;
}

using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// The value of KV fim-agents key &lt;agentId&gt;, version 1: written by the agent, read by managers (the agents API and
/// alert labels) and the operator (policy status).
/// </summary>
public sealed record Heartbeat
{
    public const int CurrentSchemaVersion = 1;

    // A setter, not init: the source generator would set a missing init property to 0 rather than keep the default.
    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    public required string AgentId { get; init; }
    /// <summary>The host's name as the agent sees it (the node name in a DaemonSet).</summary>
    public required string Hostname { get; init; }
    public required string Version { get; init; }
    public required string BootId { get; init; }
    public required IReadOnlyDictionary<string, string> Labels { get; init; }
    /// <summary>Policy name (namespace/name) -> revision being monitored.</summary>
    public required IReadOnlyDictionary<string, long> AppliedPolicies { get; init; }
    /// <summary>Policy name -> why it is not (fully) applied.</summary>
    public required IReadOnlyDictionary<string, string> PolicyErrors { get; init; }
    public required IReadOnlyList<HeartbeatPolicy> Policies { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public HeartbeatScan? LastScan { get; init; }
    /// <summary>SHA-256 over the per-policy baseline digests; changes with every baseline write.</summary>
    public required string BaselineDigest { get; init; }
    public required HeartbeatOutbox Outbox { get; init; }
    public required DateTimeOffset Time { get; init; }
    /// <summary>Policy name -> the who-data source it runs on and why not a better one; absent from agents that predate it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, WhoDataStatus>? WhoData { get; init; }
}

/// <summary>One policy on the agent: its KV key, name, revision and state (starting, running, error, invalid).</summary>
public sealed record HeartbeatPolicy(
    string Key,
    string Name,
    long Revision,
    string State,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? BaselineDigest,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] HeartbeatScan? LastScan,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] HeartbeatDrift? Drift = null);

/// <summary>
/// A finished scan: which policy, why (startup, schedule, command, ...), when, how many entries and changes, and how
/// many entries could not be examined (absent from agents that predate it).
/// </summary>
public sealed record HeartbeatScan(string Policy, string Reason, DateTimeOffset Time, long Entries, int Changes, double DurationMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Errors = null);

/// <summary>Events waiting for JetStream's ack on the agent.</summary>
public sealed record HeartbeatOutbox(int Depth, long Bytes, int Max, bool Overflowing, long Overflows);

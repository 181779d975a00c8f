using System.Text.Json;
using System.Text.Json.Serialization;
using Fim.Agent.Monitoring;

namespace Fim.Agent.Connected;

/// <summary>The value of KV fim-agents key &lt;agentId&gt;, version 1 (docs/agent-connected.md).</summary>
public sealed record Heartbeat
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    public required string AgentId { get; init; }
    public required string Hostname { get; init; }
    public required string Version { get; init; }
    public required string BootId { get; init; }
    public required IReadOnlyDictionary<string, string> Labels { get; init; }
    /// <summary>Policy name (namespace/name) -> revision being monitored.</summary>
    public required Dictionary<string, long> AppliedPolicies { get; init; }
    /// <summary>Policy name -> why it is not (fully) applied.</summary>
    public required Dictionary<string, string> PolicyErrors { get; init; }
    public required List<HeartbeatPolicy> Policies { get; init; }
    public HeartbeatScan? LastScan { get; init; }
    /// <summary>SHA-256 over the per-policy baseline digests; changes with every baseline write.</summary>
    public required string BaselineDigest { get; init; }
    public required HeartbeatOutbox Outbox { get; init; }
    public required DateTimeOffset Time { get; init; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);
}

public sealed record HeartbeatPolicy(string Key, string Name, long Revision, string State, string? Error, string? BaselineDigest, HeartbeatScan? LastScan);

public sealed record HeartbeatScan(string Policy, string Reason, DateTimeOffset Time, long Entries, int Changes, double DurationMs)
{
    public static HeartbeatScan? From(ScanReport? r) =>
        r is null ? null : new(r.Policy, r.Reason, r.FinishedAt, r.Entries, r.Changes, Math.Round(r.Duration.TotalMilliseconds, 1));
}

public sealed record HeartbeatOutbox(int Depth, long Bytes, int Max, bool Overflowing, long Overflows);

namespace Fim.Contracts;

/// <summary>
/// The value of KV fim-agent-removals key &lt;agentId&gt;, version 1: an agent a manager removed from KV fim-agents
/// (pruned by a person through the API, or automatically after its time-to-live). Its alerts stay in FIM_ALERTS; this
/// record says who removed it, when, and what it last reported. An agent that comes back writes a heartbeat again and
/// is active: a heartbeat in fim-agents always wins over a removal.
/// </summary>
public sealed record AgentRemoval
{
    public const int CurrentSchemaVersion = 1;
    public const string ByApi = "api";
    public const string ByAutoPrune = "auto-prune";

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    public required string AgentId { get; init; }
    public required DateTimeOffset RemovedAt { get; init; }
    /// <summary>The authenticated principal (token sub, token:&lt;id&gt;), or "manager:&lt;name&gt;" for an automatic prune.</summary>
    public required string RemovedBy { get; init; }
    /// <summary>"api" or "auto-prune".</summary>
    public required string Reason { get; init; }
    /// <summary>When its last heartbeat was stored.</summary>
    public required DateTimeOffset LastSeen { get; init; }
    /// <summary>The last heartbeat as the agent wrote it; null when it was unreadable.</summary>
    public Heartbeat? LastHeartbeat { get; init; }
}

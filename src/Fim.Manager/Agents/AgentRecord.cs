using System.Text;
using Fim.Contracts;

namespace Fim.Manager.Agents;

/// <summary>
/// An agent as the manager sees it: the last heartbeat in KV fim-agents, read as the agent wrote it (the shared
/// <see cref="Contracts.Heartbeat"/>) and kept whole for the API. An unreadable heartbeat still makes the agent known,
/// with no host, version or labels.
/// </summary>
public sealed record AgentRecord(string AgentId, Heartbeat? Heartbeat, DateTimeOffset LastSeen, string HeartbeatJson)
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    public string Host => Heartbeat?.Hostname ?? "";

    public string Version => Heartbeat?.Version ?? "";

    public IReadOnlyDictionary<string, string> Labels => Heartbeat?.Labels ?? NoLabels;

    /// <summary>What rules see of this agent (its labels), made once per heartbeat rather than once per event.</summary>
    public Fim.Core.Rules.AlertContext RuleContext { get; } = new(Heartbeat?.Labels ?? NoLabels, null, []);

    public static AgentRecord Parse(string agentId, ReadOnlySpan<byte> value, DateTimeOffset storedAt) =>
        new(agentId, ContractJson.ReadHeartbeat(value), storedAt, Encoding.UTF8.GetString(value));
}

using Fim.Contracts;

namespace Fim.Testing;

/// <summary>Heartbeats for tests that play an agent: the shared record, so a test cannot invent a field the agent does not write.</summary>
public static class TestHeartbeats
{
    public static Heartbeat Make(
        string agentId,
        IReadOnlyDictionary<string, string>? labels = null,
        IReadOnlyDictionary<string, long>? applied = null,
        DateTimeOffset? time = null,
        string? hostname = null,
        string version = "1.0.0") => new()
        {
            AgentId = agentId,
            Hostname = hostname ?? agentId,
            Version = version,
            BootId = "test-boot",
            Labels = labels ?? new Dictionary<string, string>(),
            AppliedPolicies = applied ?? new Dictionary<string, long>(),
            PolicyErrors = new Dictionary<string, string>(),
            Policies = [],
            BaselineDigest = "",
            Outbox = new HeartbeatOutbox(0, 0, 100_000, false, 0),
            Time = time ?? DateTimeOffset.UtcNow,
        };
}

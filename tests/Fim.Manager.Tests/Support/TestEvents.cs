using Fim.Contracts;

namespace Fim.Manager.Tests.Support;

/// <summary>Events as an agent would publish them.</summary>
public static class TestEvents
{
    private static long _sequence;

    public static string NewAgentId(string prefix = "agent") => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    public static FileEvent Event(string agentId, string path = "/etc/passwd", string kind = "modified", string[]? changed = null, string? eventId = null) => new()
    {
        EventId = eventId ?? $"{agentId}:boot1:{Interlocked.Increment(ref _sequence)}",
        AgentId = agentId,
        Host = agentId + ".node",
        Policy = "default.etc",
        Path = path,
        Kind = kind,
        Changed = [.. changed ?? (kind == "modified" ? ["size", "sha256"] : [])],
        Before = new FileState { Type = "regular", Size = 10, Mode = "0644", Sha256 = new string('a', 64) },
        After = new FileState { Type = "regular", Size = 12, Mode = "0644", Sha256 = new string('b', 64) },
        Source = "realtime",
        ObservedAt = DateTimeOffset.UtcNow,
        PublishedAt = DateTimeOffset.UtcNow,
    };
}

using Fim.Contracts;

namespace Fim.Core.Sources;

/// <summary>The one way a decoded record becomes an event, for the agent's tailed files and the manager's ingest endpoint alike.</summary>
public static class SecurityEvents
{
    /// <param name="observedAt">When the line was read or posted; used when the record carries no time of its own.</param>
    /// <param name="path">The file the line was read from, or the endpoint it was posted to.</param>
    public static FileEvent Create(SecurityRecord record, string agentId, string host, string? policy, string path, DateTimeOffset observedAt) => new()
    {
        AgentId = agentId,
        Host = host,
        Policy = policy,
        Path = path,
        Kind = FileEvent.SecurityKind,
        Source = record.Format,
        // The tool's own time when it gives one: the moment it saw what it reports, and the same on every retry of a
        // post, so a re-sent record has the same content as the first (the manager's event id claims compare content).
        ObservedAt = record.Time ?? observedAt,
        Record = record,
    };
}

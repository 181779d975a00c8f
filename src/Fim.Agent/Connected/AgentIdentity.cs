using System.Text;
using Fim.Contracts;
using Fim.Core.Events;

namespace Fim.Agent.Connected;

/// <summary>Who this agent is on the bus: id (subject token, KV key), host name, version, and this process's boot id.</summary>
public sealed class AgentIdentity
{
    public AgentIdentity(string agentId, string hostname, IReadOnlyDictionary<string, string> labels, string? hostRoot = null)
    {
        HostRoot = string.IsNullOrEmpty(hostRoot) || hostRoot.TrimEnd('/').Length == 0 ? null : hostRoot.TrimEnd('/');
        if (!Subjects.IsValidAgentId(agentId))
        {
            throw new ArgumentException($"'{agentId}' is not a valid agent id", nameof(agentId));
        }
        AgentId = agentId;
        Hostname = hostname;
        Labels = labels;
    }

    public string AgentId { get; }

    /// <summary>Where the host's file system is mounted in this process's view, or null for '/'.</summary>
    public string? HostRoot { get; }

    public string Hostname { get; }

    public IReadOnlyDictionary<string, string> Labels { get; }

    public string Version { get; } = typeof(AgentIdentity).Assembly.GetName().Version?.ToString() ?? "0";

    /// <summary>Unique per process start: Unix ms (hex) plus random bits, so ids from two boots never meet.</summary>
    public string BootId { get; } = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString("x11") + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));

    public string EventsSubject => Subjects.Events(AgentId);

    public string ScansSubject => Subjects.Scans(AgentId);

    public string CommandSubject => Subjects.AgentCommand(AgentId);

    /// <summary>Replies to this agent's requests come to inboxes under this prefix, which its NATS user may subscribe.</summary>
    public string InboxPrefix => $"_INBOX.{AgentId}";

    public EventOrigin Origin => new(AgentId, Hostname, HostRoot);

    /// <summary>The configured id, else NODE_NAME, else the host name, sanitised to a valid id.</summary>
    public static string ResolveId(string? configured, Func<string, string?> env, string hostname) =>
        !string.IsNullOrWhiteSpace(configured) ? configured : Sanitize(env("NODE_NAME") is { Length: > 0 } node ? node : hostname);

    /// <summary>Lower-cases and replaces every character an id cannot hold with '-'.</summary>
    public static string Sanitize(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var c in name.Trim().ToLowerInvariant())
        {
            sb.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' ? c : '-');
        }
        var id = sb.ToString().Trim('-');
        if (id.Length > 128)
        {
            id = id[..128];
        }
        return id.Length == 0 ? "agent" : id;
    }
}

using Fim.Core.Model;

namespace Fim.Core.Events;

/// <summary>Where events come from: the agent's identity, and where the host's file system is mounted if not at '/'.</summary>
public sealed record EventOrigin(string AgentId, string Host, string? HostRoot = null)
{
    /// <summary>A path as the host knows it: the mount prefix removed.</summary>
    public byte[] HostPath(byte[] path)
    {
        if (string.IsNullOrEmpty(HostRoot) || HostRoot.TrimEnd('/').Length == 0)
        {
            return path;
        }
        var prefix = PathBytes.FromString(HostRoot.TrimEnd('/'));
        if (!PathBytes.IsUnder(path, prefix))
        {
            return path;
        }
        return path.Length == prefix.Length ? "/"u8.ToArray() : path[prefix.Length..];
    }

    public static EventOrigin Local() => new(Environment.MachineName, Environment.MachineName);
}

using System.Collections.Concurrent;
using Fim.Core.Native;

namespace Fim.Core.Scanning;

/// <summary>uid/gid to name, looked up once per id per scan (names can change between scans and that is reported).</summary>
internal sealed class NameCache
{
    private readonly ConcurrentDictionary<uint, string?> _users = new();
    private readonly ConcurrentDictionary<uint, string?> _groups = new();

    public string? User(uint uid) => _users.GetOrAdd(uid, Posix.UserName);

    public string? Group(uint gid) => _groups.GetOrAdd(gid, Posix.GroupName);
}

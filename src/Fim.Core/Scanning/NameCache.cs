using System.Collections.Concurrent;
using Fim.Core.Native;

namespace Fim.Core.Scanning;

/// <summary>uid/gid to name, looked up once per id per scan (names can change between scans and that is reported).</summary>
internal sealed class NameCache
{
    // Most entries of a tree share an owner: remembering the last answer per thread skips the shared dictionary.
    [ThreadStatic] private static (NameCache Owner, uint Id, string? Name) t_lastUser;
    [ThreadStatic] private static (NameCache Owner, uint Id, string? Name) t_lastGroup;
    private readonly ConcurrentDictionary<uint, string?> _users = new();
    private readonly ConcurrentDictionary<uint, string?> _groups = new();

    public string? User(uint uid) => Lookup(ref t_lastUser, _users, uid, Posix.UserName);

    public string? Group(uint gid) => Lookup(ref t_lastGroup, _groups, gid, Posix.GroupName);

    private string? Lookup(ref (NameCache Owner, uint Id, string? Name) last, ConcurrentDictionary<uint, string?> map, uint id, Func<uint, string?> resolve)
    {
        if (ReferenceEquals(last.Owner, this) && last.Id == id)
        {
            return last.Name;
        }
        var name = map.GetOrAdd(id, resolve);
        last = (this, id, name);
        return name;
    }
}

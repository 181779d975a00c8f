using Fim.Core.Model;

namespace Fim.Agent.Realtime;

/// <summary>A watched directory: where it is now, how deep below its root, and which root's rules apply.</summary>
internal sealed record WatchedDirectory(int Wd, byte[] Path, int Depth, RootState Root);

/// <summary>A root as registered, with the device of its top directory for the one-filesystem check.</summary>
internal sealed class RootState(WatchRoot root, Func<byte[], int, bool>? globalFilter)
{
    public byte[] Path { get; } = root.Path;
    public bool OneFilesystem { get; } = root.OneFilesystem;
    public ulong? Device { get; set; }

    public bool Allows(byte[] directory, int depth) =>
        root.Allows(directory, depth) && (globalFilter is null || globalFilter(directory, depth));
}

/// <summary>wd -> directory. Paths change when directories move, so lookups by path scan the table.</summary>
internal sealed class WatchTable
{
    private readonly Dictionary<int, WatchedDirectory> _byWd = [];
    private int _count;

    /// <summary>Readable from any thread (metrics) while the owner mutates the table under its lock.</summary>
    public int Count => Volatile.Read(ref _count);

    public IEnumerable<WatchedDirectory> All => _byWd.Values;

    public bool TryGet(int wd, out WatchedDirectory directory) => _byWd.TryGetValue(wd, out directory!);

    /// <summary>
    /// Records a watch. The kernel returns the existing wd for an inode already watched, e.g. a directory found
    /// again under a new path after a move, so the entry is replaced, keeping the more specific root when roots nest.
    /// </summary>
    /// <returns>True when the wd is new or its path changed.</returns>
    public bool Set(WatchedDirectory directory)
    {
        if (_byWd.TryGetValue(directory.Wd, out var existing))
        {
            var samePath = PathComparer.Instance.Equals(existing.Path, directory.Path);
            if (samePath && existing.Root.Path.Length > directory.Root.Path.Length)
            {
                return false;
            }
            _byWd[directory.Wd] = directory;
            return !samePath;
        }
        _byWd.Add(directory.Wd, directory);
        Volatile.Write(ref _count, _byWd.Count);
        return true;
    }

    public bool Remove(int wd)
    {
        var removed = _byWd.Remove(wd);
        Volatile.Write(ref _count, _byWd.Count);
        return removed;
    }

    /// <summary>The watches at or below <paramref name="path"/>.</summary>
    public List<WatchedDirectory> Under(ReadOnlySpan<byte> path)
    {
        var result = new List<WatchedDirectory>();
        foreach (var d in _byWd.Values)
        {
            if (PathBytes.IsUnder(d.Path, path))
            {
                result.Add(d);
            }
        }
        return result;
    }
}

using Fim.Core.Model;

namespace Fim.Core.Baseline;

/// <summary>
/// The current baseline: one <see cref="FileRecord"/> per path. Reads are lock-free and safe from any number of
/// threads; writes are serialised. Edits made here with <see cref="Set"/> and <see cref="Remove"/> are
/// uncommitted until <see cref="BaselineStore.Save"/> succeeds; a failed save rolls them back.
/// Records and their path arrays are shared, never copied: do not mutate them after handing them in.
/// </summary>
public sealed class BaselineRecords : Scanning.IBaselineView
{
    private readonly RecordTable _map;
    private readonly Lock _writeLock = new();
    // For each path edited since the last commit, its committed record (null: absent); the first edit records it.
    private Dictionary<byte[], FileRecord?> _uncommitted = new(PathComparer.Instance);

    internal BaselineRecords(int capacity = 0)
    {
        _map = new RecordTable(capacity);
    }

    public int Count => _map.Count;

    /// <summary>True when <see cref="Set"/> or <see cref="Remove"/> changed something that is not saved yet.</summary>
    public bool HasUncommittedChanges
    {
        get
        {
            lock (_writeLock)
            {
                return _uncommitted.Count > 0;
            }
        }
    }

    /// <summary>Every record, in no particular order; a moving view when written to concurrently.</summary>
    public IEnumerable<FileRecord> All => _map.All;

    public bool TryGet(byte[] path, out FileRecord record) => _map.TryGet(path, out record);

    public bool TryGet(ReadOnlySpan<byte> path, out FileRecord record) => _map.TryGet(path, out record);

    /// <summary>Makes room for <paramref name="count"/> records before many are set (a first baseline).</summary>
    public void EnsureCapacity(int count)
    {
        lock (_writeLock)
        {
            _map.EnsureCapacity(count);
            _uncommitted.EnsureCapacity(Math.Max(0, count - _map.Count));
        }
    }

    /// <summary>Adds or replaces the record for <c>record.Path</c>.</summary>
    public void Set(FileRecord record)
    {
        ArgumentNullException.ThrowIfNull(record.Path);
        lock (_writeLock)
        {
            var old = _map.Set(record);
            _uncommitted.TryAdd(record.Path, old);
        }
    }

    public bool Remove(byte[] path)
    {
        lock (_writeLock)
        {
            if (_map.Remove(path) is not { } old)
            {
                return false;
            }
            _uncommitted.TryAdd(old.Path, old);
            return true;
        }
    }

    /// <summary>Adds a record read from disk while the store opens; nothing to commit.</summary>
    internal void Load(FileRecord record)
    {
        lock (_writeLock)
        {
            _map.Set(record);
        }
    }

    internal void LoadDelete(byte[] path)
    {
        lock (_writeLock)
        {
            _map.Remove(path);
        }
    }

    /// <summary>Applies updates that are already durable (journaled).</summary>
    internal void ApplyCommitted(IReadOnlyList<BaselineUpdate> updates)
    {
        lock (_writeLock)
        {
            foreach (var (path, record) in updates)
            {
                if (record is null)
                {
                    _map.Remove(path);
                }
                else
                {
                    _map.Set(record);
                }
                if (_uncommitted.ContainsKey(path))
                {
                    _uncommitted[path] = record;
                }
            }
        }
    }

    /// <summary>Takes a consistent copy of all records, sorted by path, and detaches the uncommitted edits it contains.</summary>
    internal PendingCommit BeginCommit()
    {
        byte[][] paths;
        FileRecord[] records;
        Dictionary<byte[], FileRecord?> edits;
        lock (_writeLock)
        {
            paths = new byte[_map.Count][];
            records = new FileRecord[paths.Length];
            var i = 0;
            foreach (var record in _map.All)
            {
                paths[i] = record.Path;
                records[i++] = record;
            }
            edits = _uncommitted;
            _uncommitted = new Dictionary<byte[], FileRecord?>(PathComparer.Instance);
        }
        // Sorting the keys beside the values touches less memory per comparison than sorting records by record.Path.
        Array.Sort(paths, records, PathComparer.Instance);
        return new PendingCommit(records, edits);
    }

    /// <summary>The commit failed: puts back the committed records of the edits it carried.</summary>
    internal void AbortCommit(PendingCommit commit)
    {
        lock (_writeLock)
        {
            foreach (var (path, committed) in commit.Edits)
            {
                if (_uncommitted.ContainsKey(path))
                {
                    // Edited again since the commit began: keep that edit, but roll it back to the right state.
                    _uncommitted[path] = committed;
                }
                else if (committed is null)
                {
                    _map.Remove(path);
                }
                else
                {
                    _map.Set(committed);
                }
            }
        }
    }

    internal sealed record PendingCommit(FileRecord[] Records, Dictionary<byte[], FileRecord?> Edits);
}

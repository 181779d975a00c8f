using System.Collections.Concurrent;
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
    private readonly ConcurrentDictionary<byte[], FileRecord> _map;
    private readonly ConcurrentDictionary<byte[], FileRecord>.AlternateLookup<ReadOnlySpan<byte>> _bySpan;
    private readonly Lock _writeLock = new();
    // For each path edited since the last commit, its committed record (null: absent); the first edit records it.
    private Dictionary<byte[], FileRecord?> _uncommitted = new(PathComparer.Instance);

    internal BaselineRecords(int capacity = 0)
    {
        _map = new ConcurrentDictionary<byte[], FileRecord>(Environment.ProcessorCount, Math.Max(capacity, 31), PathComparer.Instance);
        _bySpan = _map.GetAlternateLookup<ReadOnlySpan<byte>>();
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
    public IEnumerable<FileRecord> All
    {
        get
        {
            foreach (var entry in _map)
            {
                yield return entry.Value;
            }
        }
    }

    public bool TryGet(byte[] path, out FileRecord record) => _map.TryGetValue(path, out record!);

    public bool TryGet(ReadOnlySpan<byte> path, out FileRecord record) => _bySpan.TryGetValue(path, out record!);

    /// <summary>Adds or replaces the record for <c>record.Path</c>.</summary>
    public void Set(FileRecord record)
    {
        ArgumentNullException.ThrowIfNull(record.Path);
        lock (_writeLock)
        {
            _uncommitted.TryAdd(record.Path, _map.TryGetValue(record.Path, out var old) ? old : null);
            _map[record.Path] = record;
        }
    }

    public bool Remove(byte[] path)
    {
        lock (_writeLock)
        {
            if (!_map.TryRemove(path, out var old))
            {
                return false;
            }
            _uncommitted.TryAdd(old.Path, old);
            return true;
        }
    }

    /// <summary>Adds a record read from disk while the store opens; nothing to commit.</summary>
    internal void Load(FileRecord record) => _map[record.Path] = record;

    internal void LoadDelete(byte[] path) => _map.TryRemove(path, out _);

    /// <summary>Applies updates that are already durable (journaled).</summary>
    internal void ApplyCommitted(IReadOnlyList<BaselineUpdate> updates)
    {
        lock (_writeLock)
        {
            foreach (var (path, record) in updates)
            {
                if (record is null)
                {
                    _map.TryRemove(path, out _);
                }
                else
                {
                    _map[path] = record;
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
            foreach (var entry in _map)
            {
                paths[i] = entry.Key;
                records[i++] = entry.Value;
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
                    _map.TryRemove(path, out _);
                }
                else
                {
                    _map[path] = committed;
                }
            }
        }
    }

    internal sealed record PendingCommit(FileRecord[] Records, Dictionary<byte[], FileRecord?> Edits);
}

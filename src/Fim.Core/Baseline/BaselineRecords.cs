using Fim.Core.Model;

namespace Fim.Core.Baseline;

/// <summary>
/// The current baseline: one <see cref="FileRecord"/> per path (those the store opened with held frozen, see
/// <see cref="RecordTable"/>, so a lookup of one of them decodes a fresh object). Reads are lock-free and safe from any number of
/// threads; writes are serialised. Edits made here with <see cref="Set"/> and <see cref="Remove"/> are
/// uncommitted until <see cref="BaselineStore.Save"/> succeeds; a failed save rolls them back.
/// Records and their path arrays are shared, never copied: do not mutate them after handing them in.
/// </summary>
public sealed class BaselineRecords : Scanning.IBaselineView
{
    private RecordTable _map;
    private readonly Lock _writeLock = new();
    // For each path edited since the last commit, its committed record (null: absent); the first edit records it.
    private Dictionary<byte[], FileRecord?> _uncommitted = new(PathComparer.Instance);
    // True while nothing is committed and every record here is an uncommitted addition (a first baseline): each path's
    // committed record is then known to be null without an entry in _uncommitted, which for a million paths is ~30 MB.
    private bool _addedToEmpty;
    // Commits begun and neither written nor aborted: while one is, an empty map does not mean nothing is committed.
    private int _commitsInFlight;

    internal BaselineRecords(int capacity = 0)
    {
        _map = new RecordTable(capacity);
    }

    /// <summary>A baseline that starts from committed records in their compact form.</summary>
    internal BaselineRecords(FrozenRecords committed)
    {
        _map = new RecordTable(committed);
    }

    public int Count => _map.Count;

    /// <summary>True when <see cref="Set"/> or <see cref="Remove"/> changed something that is not saved yet.</summary>
    public bool HasUncommittedChanges
    {
        get
        {
            lock (_writeLock)
            {
                return _uncommitted.Count > 0 || (_addedToEmpty && _map.Count > 0);
            }
        }
    }

    /// <summary>Every record, in no particular order; a moving view when written to concurrently.</summary>
    public IEnumerable<FileRecord> All => _map.All;

    public bool TryGet(byte[] path, out FileRecord record) => _map.TryGet(path, out record);

    public bool TryGet(ReadOnlySpan<byte> path, out FileRecord record) => _map.TryGet(path, out record);

    public void MarkSeen(FileRecord record, int generation) => _map.MarkSeen(record, generation);

    public int SeenGeneration(FileRecord record) => _map.SeenGeneration(record);

    /// <summary>Makes room for <paramref name="count"/> records before many are set (a first baseline).</summary>
    public void EnsureCapacity(int count)
    {
        lock (_writeLock)
        {
            _map.EnsureCapacity(count);
            if (!NothingCommitted())
            {
                _uncommitted.EnsureCapacity(Math.Max(0, count - _map.Count));
            }
        }
    }

    /// <summary>
    /// Sets or removes what each update says. A first baseline that its walk froze (<see cref="FrozenUpdates"/>) is
    /// taken whole when nothing is here yet: its records stay in their compact form, uncommitted additions until saved.
    /// </summary>
    public void Apply(IReadOnlyList<BaselineUpdate> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        lock (_writeLock)
        {
            // Not when a failed save rolled these very records back (it marked them removed): then one by one.
            if (updates is FrozenUpdates first && first.Records.LiveCount == first.Records.Count && _map.Count == 0 && NothingCommitted())
            {
                Volatile.Write(ref _map, new RecordTable(first.Records));
                return;
            }
        }
        if (updates.Count > 1024)
        {
            EnsureCapacity(Count + updates.Count);
        }
        foreach (var (path, record) in updates)
        {
            if (record is null)
            {
                Remove(path);
            }
            else
            {
                Set(record);
            }
        }
    }

    /// <summary>Adds or replaces the record for <c>record.Path</c>.</summary>
    public void Set(FileRecord record)
    {
        ArgumentNullException.ThrowIfNull(record.Path);
        lock (_writeLock)
        {
            var addedToEmpty = NothingCommitted();
            var old = _map.Set(record);
            if (!addedToEmpty)
            {
                _uncommitted.TryAdd(record.Path, old);
            }
        }
    }

    public bool Remove(byte[] path)
    {
        lock (_writeLock)
        {
            var addedToEmpty = NothingCommitted();
            if (_map.Remove(path) is not { } old)
            {
                return false;
            }
            if (!addedToEmpty)
            {
                _uncommitted.TryAdd(old.Path, old);
            }
            return true;
        }
    }

    /// <summary>
    /// Freezes the records held as objects into the compact form, when they are many (many changes since the store
    /// opened, or a first baseline set record by record) and all are committed. Only between scans: a scan's marks of what it has seen
    /// do not carry over. Returns whether it froze.
    /// </summary>
    public bool Freeze()
    {
        lock (_writeLock)
        {
            var map = _map;
            if (_uncommitted.Count > 0 || _addedToEmpty || _commitsInFlight > 0 || map.ThawedCount < Math.Max(1024, map.Count / 8))
            {
                return false;
            }
            var records = map.Capture();
            records.SortThawed();
            var frozen = new FrozenRecords.Builder(records.Count);
            foreach (var record in records)
            {
                frozen.Add(record);
            }
            // Readers still in the old table finish there; it holds the same records. Scan threads end with their scan;
            // the thread that freezes (the one that runs scans) lets go of the old frozen buffers here.
            Volatile.Write(ref _map, new RecordTable(frozen.Build()));
            RecordTable.ForgetDecoded();
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
            if (_addedToEmpty)
            {
                // Some paths become committed now and others stay uncommitted additions: record those one by one.
                _addedToEmpty = false;
                foreach (var record in _map.All)
                {
                    _uncommitted[record.Path] = null;
                }
            }
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
        CommittedRecords records;
        Dictionary<byte[], FileRecord?> edits;
        bool addedToEmpty;
        lock (_writeLock)
        {
            // The frozen records stay where they are: the commit writes those not removed now, decoding one at a time.
            records = _map.Capture();
            edits = _uncommitted;
            addedToEmpty = _addedToEmpty;
            _uncommitted = new Dictionary<byte[], FileRecord?>(PathComparer.Instance);
            _addedToEmpty = false;
            _commitsInFlight++;
        }
        records.SortThawed();
        return new PendingCommit(records, edits, addedToEmpty);
    }

    /// <summary>The commit failed: puts back the committed records of the edits it carried.</summary>
    internal void AbortCommit(PendingCommit commit)
    {
        lock (_writeLock)
        {
            _commitsInFlight--;
            if (commit.AddedToEmpty)
            {
                // Nothing was committed: every record the commit carried goes, or, edited since, is rolled back to absent.
                foreach (var record in commit.Records)
                {
                    if (_uncommitted.ContainsKey(record.Path))
                    {
                        _uncommitted[record.Path] = null;
                    }
                    else
                    {
                        _map.Remove(record.Path);
                    }
                }
                return;
            }
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

    /// <summary>The commit is written: its edits are the committed state now.</summary>
    internal void EndCommit()
    {
        lock (_writeLock)
        {
            _commitsInFlight--;
        }
    }

    /// <summary>Whether nothing is committed and nothing edited (so the next edit starts a baseline from empty); enters that mode. Under the write lock.</summary>
    private bool NothingCommitted()
    {
        if (!_addedToEmpty && _map.Count == 0 && _uncommitted.Count == 0 && _commitsInFlight == 0)
        {
            _addedToEmpty = true;
        }
        return _addedToEmpty;
    }

    /// <param name="AddedToEmpty">Nothing was committed before: every record of <paramref name="Records"/> is an addition (and <paramref name="Edits"/> is empty).</param>
    internal sealed record PendingCommit(CommittedRecords Records, Dictionary<byte[], FileRecord?> Edits, bool AddedToEmpty);
}

/// <summary>
/// The records a commit writes, in path order: the sorted objects merged with the frozen entries not removed when the
/// commit began (a path is never in both).
/// </summary>
internal sealed class CommittedRecords(FileRecord[] thawed, FrozenRecords? frozen, int[]? frozenRemoved) : IReadOnlyCollection<FileRecord>
{
    public FileRecord[] Thawed => thawed;

    /// <summary>Puts the objects in path order, outside the write lock when a commit takes them.</summary>
    public void SortThawed() =>
        // By the records' own paths, not a parallel array of keys: that array (8 MB for a million records) would be
        // allocated at the moment a first baseline's memory peaks.
        Array.Sort(thawed, RecordPathComparer.Instance);

    public int Count { get; } = thawed.Length + (frozen is null ? 0 : frozen.Count - frozenRemoved!.Sum(w => System.Numerics.BitOperations.PopCount((uint)w)));

    public IEnumerator<FileRecord> GetEnumerator()
    {
        if (frozen is null)
        {
            foreach (var r in thawed)
            {
                yield return r;
            }
            yield break;
        }
        var i = 0;
        foreach (var f in frozen.InOrder(frozenRemoved!))
        {
            for (; i < thawed.Length && PathComparer.Instance.Compare(thawed[i].Path, f.Path) < 0; i++)
            {
                yield return thawed[i];
            }
            yield return f;
        }
        for (; i < thawed.Length; i++)
        {
            yield return thawed[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Orders records by path, the way a snapshot stores them.</summary>
internal sealed class RecordPathComparer : IComparer<FileRecord>
{
    public static readonly RecordPathComparer Instance = new();

    public int Compare(FileRecord? x, FileRecord? y) => PathComparer.Instance.Compare(x?.Path, y?.Path);
}

using System.IO.Hashing;
using System.Numerics;
using Fim.Core.Model;

namespace Fim.Core.Baseline;

/// <summary>
/// Records keyed by their own <see cref="FileRecord.Path"/>: the ones a store opened with, frozen in their compact
/// encoding (<see cref="FrozenRecords"/>), under the ones added or replaced since, in one open-addressing array of
/// objects (a slot per record instead of a dictionary node). A frozen entry that is replaced or removed is marked
/// removed, after the replacement is in the array, so that a path is in exactly one of the two. Reads are lock-free
/// and safe from any number of threads while one writer at a time (the caller serialises writes) adds, replaces or
/// removes: a replaced record is swapped in its slot, a removed one leaves a tombstone, and a resize builds a new
/// array and publishes it whole, so a reader always probes a consistent array.
/// </summary>
internal sealed class RecordTable
{
    private const int MinSlots = 16;
    private static readonly FileRecord Tombstone = new() { Path = [] };
    // The record this thread decoded last and where from: a scan marks the record it just looked up as seen, and
    // finds its entry here instead of looking the path up again. A decoded record is a fresh object no table holds.
    [ThreadStatic] private static FileRecord? t_decoded;
    [ThreadStatic] private static FrozenRecords? t_decodedFrom;
    [ThreadStatic] private static int t_decodedOrdinal;

    private readonly FrozenRecords? _frozen;
    private FileRecord?[] _slots;
    private int _count;
    // Records plus tombstones: a probe ends at an empty slot, so at least a third of the slots stay empty.
    private int _used;

    public RecordTable(int capacity) => _slots = new FileRecord?[SlotsFor(capacity)];

    public RecordTable(FrozenRecords frozen)
        : this(0) => _frozen = frozen;

    public int Count => Volatile.Read(ref _count) + (_frozen?.LiveCount ?? 0);

    /// <summary>The records added or replaced since the table was made, the ones not frozen.</summary>
    public int ThawedCount => Volatile.Read(ref _count);

    public bool TryGet(ReadOnlySpan<byte> path, out FileRecord record)
    {
        var hash = Hash(path);
        // The frozen entry's state first: a writer puts a replacement in the array before it marks the entry removed,
        // so a reader that finds the entry removed is sure to find the replacement, or the path truly gone.
        var frozen = _frozen?.Find(path, hash) ?? -1;
        var frozenLive = frozen >= 0 && !_frozen!.IsRemoved(frozen);
        if (Thawed(path, hash) is { } r)
        {
            record = r;
            return true;
        }
        if (frozenLive)
        {
            record = _frozen!.Decode(frozen);
            t_decoded = record;
            t_decodedFrom = _frozen;
            t_decodedOrdinal = frozen;
            return true;
        }
        record = null!;
        return false;
    }

    /// <summary>Drops this thread's memory of the record it decoded last, which keeps its frozen buffers alive.</summary>
    public static void ForgetDecoded()
    {
        t_decoded = null;
        t_decodedFrom = null;
    }

    /// <summary>Records that a scan of <paramref name="generation"/> met the record <see cref="TryGet"/> gave for its path.</summary>
    public void MarkSeen(FileRecord record, int generation)
    {
        record.SeenGeneration = generation;
        if (FrozenOrdinal(record) is var ordinal and >= 0)
        {
            _frozen!.MarkSeen(ordinal, generation);
        }
    }

    /// <summary>The scan generation that last met <paramref name="record"/>'s entry.</summary>
    public int SeenGeneration(FileRecord record) =>
        FrozenOrdinal(record) is var ordinal and >= 0 ? _frozen!.SeenGeneration(ordinal) : record.SeenGeneration;

    /// <summary>The frozen entry <paramref name="record"/> was decoded from, or -1 when it is an object in the array.</summary>
    private int FrozenOrdinal(FileRecord record)
    {
        if (_frozen is null)
        {
            return -1;
        }
        if (ReferenceEquals(record, t_decoded) && ReferenceEquals(_frozen, t_decodedFrom))
        {
            return t_decodedOrdinal;
        }
        var hash = Hash(record.Path);
        return ReferenceEquals(Thawed(record.Path, hash), record) ? -1 : _frozen.Find(record.Path, hash);
    }

    private FileRecord? Thawed(ReadOnlySpan<byte> path, int hash)
    {
        var slots = Volatile.Read(ref _slots);
        var mask = slots.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var r = Volatile.Read(ref slots[i]);
            if (r is null)
            {
                return null;
            }
            if (!ReferenceEquals(r, Tombstone) && r.Path.AsSpan().SequenceEqual(path))
            {
                return r;
            }
        }
    }

    /// <summary>Marks the frozen entry of <paramref name="path"/> removed, when there is a live one; returns it decoded. Writers only.</summary>
    private FileRecord? RemoveFrozen(ReadOnlySpan<byte> path)
    {
        if (_frozen?.Find(path, Hash(path)) is not { } ordinal || ordinal < 0 || _frozen.IsRemoved(ordinal))
        {
            return null;
        }
        var frozen = _frozen.Decode(ordinal);
        _frozen.MarkRemoved(ordinal);
        return frozen;
    }

    /// <summary>
    /// Adds or replaces the record for <c>record.Path</c>; returns the one it replaced. Writers only. The object goes
    /// into the array before a frozen entry of the path is marked removed (see <see cref="TryGet"/>).
    /// </summary>
    public FileRecord? Set(FileRecord record) => SetThawed(record) ?? RemoveFrozen(record.Path);

    private FileRecord? SetThawed(FileRecord record)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        var free = -1;
        for (var i = Hash(record.Path) & mask; ; i = (i + 1) & mask)
        {
            var r = slots[i];
            if (r is null)
            {
                break;
            }
            if (ReferenceEquals(r, Tombstone))
            {
                free = free < 0 ? i : free;
            }
            else if (r.Path.AsSpan().SequenceEqual(record.Path))
            {
                Volatile.Write(ref slots[i], record);
                return r;
            }
        }
        if (free < 0 && (_used + 1) * 3 > slots.Length * 2)
        {
            Resize(Math.Max(_count + 1, 1) * 2);
            return SetThawed(record);
        }
        if (free < 0)
        {
            free = FirstEmpty(slots, Hash(record.Path) & mask);
            _used++;
        }
        Volatile.Write(ref slots[free], record);
        Volatile.Write(ref _count, _count + 1);
        return null;
    }

    /// <summary>Removes the record of <paramref name="path"/>; returns it, or null when there was none. Writers only.</summary>
    public FileRecord? Remove(ReadOnlySpan<byte> path)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        for (var i = Hash(path) & mask; ; i = (i + 1) & mask)
        {
            var r = slots[i];
            if (r is null)
            {
                return RemoveFrozen(path);
            }
            if (!ReferenceEquals(r, Tombstone) && r.Path.AsSpan().SequenceEqual(path))
            {
                Volatile.Write(ref slots[i], Tombstone);
                Volatile.Write(ref _count, _count - 1);
                return r;
            }
        }
    }

    /// <summary>Every record (frozen ones decoded one at a time); a moving view when written to concurrently.</summary>
    public IEnumerable<FileRecord> All => _frozen is null ? AllThawed : AllThawed.Concat(_frozen.Live());

    /// <summary>
    /// Every record now, for a commit or a freeze: the objects (unsorted until <see cref="CommittedRecords.SortThawed"/>)
    /// and the frozen entries not removed now. Writers only, so that nothing changes while it is taken.
    /// </summary>
    public CommittedRecords Capture()
    {
        var thawed = new FileRecord[ThawedCount];
        var i = 0;
        foreach (var record in AllThawed)
        {
            thawed[i++] = record;
        }
        return new CommittedRecords(thawed, _frozen, _frozen?.RemovedNow());
    }

    /// <summary>Every record of the array current when enumeration starts.</summary>
    public IEnumerable<FileRecord> AllThawed
    {
        get
        {
            var slots = Volatile.Read(ref _slots);
            for (var i = 0; i < slots.Length; i++)
            {
                if (Volatile.Read(ref slots[i]) is { } r && !ReferenceEquals(r, Tombstone))
                {
                    yield return r;
                }
            }
        }
    }

    /// <summary>Makes room for <paramref name="capacity"/> records at once (a first baseline), instead of doubling through every size. Writers only.</summary>
    public void EnsureCapacity(int capacity)
    {
        capacity -= _frozen?.LiveCount ?? 0;
        if (SlotsFor(capacity) > _slots.Length)
        {
            Resize(capacity);
        }
    }

    private void Resize(int capacity)
    {
        var fresh = new FileRecord?[SlotsFor(capacity)];
        var mask = fresh.Length - 1;
        foreach (var r in _slots)
        {
            if (r is not null && !ReferenceEquals(r, Tombstone))
            {
                fresh[FirstEmpty(fresh, Hash(r.Path) & mask)] = r;
            }
        }
        _used = _count;
        Volatile.Write(ref _slots, fresh);
    }

    private static int FirstEmpty(FileRecord?[] slots, int start)
    {
        var mask = slots.Length - 1;
        var i = start;
        while (slots[i] is not null)
        {
            i = (i + 1) & mask;
        }
        return i;
    }

    internal static int SlotsFor(int capacity) =>
        (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(MinSlots, capacity + capacity / 2 + 1));

    internal static int Hash(ReadOnlySpan<byte> path) => unchecked((int)XxHash3.HashToUInt64(path)) & int.MaxValue;
}

using System.IO.Hashing;
using System.Numerics;
using Fim.Core.Model;

namespace Fim.Core.Baseline;

/// <summary>
/// Records keyed by their own <see cref="FileRecord.Path"/> in one open-addressing array: a slot per record instead of
/// a dictionary node per record (a million records save about 50 MB and a million allocations at load). Reads are
/// lock-free and safe from any number of threads while one writer at a time (the caller serialises writes) adds,
/// replaces or removes: a replaced record is swapped in its slot, a removed one leaves a tombstone, and a resize builds
/// a new array and publishes it whole, so a reader always probes a consistent array.
/// </summary>
internal sealed class RecordTable
{
    private const int MinSlots = 16;
    private static readonly FileRecord Tombstone = new() { Path = [] };

    private FileRecord?[] _slots;
    private int _count;
    // Records plus tombstones: a probe ends at an empty slot, so at least a third of the slots stay empty.
    private int _used;

    public RecordTable(int capacity) => _slots = new FileRecord?[SlotsFor(capacity)];

    public int Count => Volatile.Read(ref _count);

    public bool TryGet(ReadOnlySpan<byte> path, out FileRecord record)
    {
        var slots = Volatile.Read(ref _slots);
        var mask = slots.Length - 1;
        for (var i = Hash(path) & mask; ; i = (i + 1) & mask)
        {
            var r = Volatile.Read(ref slots[i]);
            if (r is null)
            {
                record = null!;
                return false;
            }
            if (!ReferenceEquals(r, Tombstone) && r.Path.AsSpan().SequenceEqual(path))
            {
                record = r;
                return true;
            }
        }
    }

    /// <summary>Adds or replaces the record for <c>record.Path</c>; returns the one it replaced. Writers only.</summary>
    public FileRecord? Set(FileRecord record)
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
            return Set(record);
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
                return null;
            }
            if (!ReferenceEquals(r, Tombstone) && r.Path.AsSpan().SequenceEqual(path))
            {
                Volatile.Write(ref slots[i], Tombstone);
                Volatile.Write(ref _count, _count - 1);
                return r;
            }
        }
    }

    /// <summary>Every record of the array current when enumeration starts; a moving view when written to concurrently.</summary>
    public IEnumerable<FileRecord> All
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

    private static int SlotsFor(int capacity) =>
        (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(MinSlots, capacity + capacity / 2 + 1));

    private static int Hash(ReadOnlySpan<byte> path) => unchecked((int)XxHash3.HashToUInt64(path)) & int.MaxValue;
}

using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Fim.Core.Model;

namespace Fim.Core.Baseline;

/// <summary>
/// The committed records a store opened with, kept as a compact encoding in a few large buffers instead of as objects:
/// about 120 bytes a file where a <see cref="FileRecord"/> and its path array take about 170, and no object per file
/// for the collector to trace. A lookup decodes a fresh <see cref="FileRecord"/> (its digests point into the buffer,
/// not copied). Immutable but for two things a writer or a scan changes in place: whether an entry was removed
/// (replaced or deleted since, see <see cref="RecordTable"/>) and the scan generation that last saw it.
/// </summary>
/// <remarks>
/// Entry layout (varints are LEB128): path length, path, type | hash status &lt;&lt; 4, mode, ownership index, size (zigzag),
/// mtime (8 bytes), ctime - mtime (zigzag), inode, link count, rare-fields index, digest slots + 1 (0: none), present
/// mask, the packed digests. Owners and rare fields are tables of the shared objects the records referenced.
/// </remarks>
internal sealed class FrozenRecords
{
    private const int ChunkBits = 20;
    private const int ChunkSize = 1 << ChunkBits;
    // A location is chunk << ChunkBits | offset in one positive int.
    private const int MaxChunks = int.MaxValue >> ChunkBits;
    // A slot holds ordinal + 1 in its low bits and, above them, bits of the path's hash that its position does not
    // use: a probe skips other paths without reading their entries (a cache miss each) unless those bits match.
    private const int OrdinalBits = 24;
    private const int OrdinalMask = (1 << OrdinalBits) - 1;

    private readonly byte[][] _chunks;
    private readonly int[] _locations;
    // Open addressing over tagged ordinals + 1 (0: empty), by RecordTable.Hash of the path.
    private readonly int[] _slots;
    // Past 2^24 - 1 entries the ordinal takes every bit and the tag is always 0.
    private readonly bool _tagged;
    private readonly Ownership?[] _owners;
    private readonly RareFields?[] _rares;
    private readonly int[] _seen;
    private readonly int[] _removedBits;
    private int _removed;

    private FrozenRecords(byte[][] chunks, int[] locations, Ownership?[] owners, RareFields?[] rares)
    {
        _chunks = chunks;
        _locations = locations;
        _owners = owners;
        _rares = rares;
        _seen = new int[locations.Length];
        _removedBits = new int[(locations.Length + 31) / 32];
        _slots = new int[RecordTable.SlotsFor(locations.Length)];
        _tagged = locations.Length < OrdinalMask;
        var mask = _slots.Length - 1;
        for (var ordinal = 0; ordinal < locations.Length; ordinal++)
        {
            var hash = RecordTable.Hash(PathAt(ordinal));
            var i = hash & mask;
            while (_slots[i] != 0)
            {
                i = (i + 1) & mask;
            }
            _slots[i] = Tag(hash) | (ordinal + 1);
        }
    }

    /// <summary>Entries frozen, removed ones included.</summary>
    public int Count => _locations.Length;

    /// <summary>Entries not removed.</summary>
    public int LiveCount => Count - Volatile.Read(ref _removed);

    /// <summary>The ordinal of <paramref name="path"/> (removed or not), or -1.</summary>
    public int Find(ReadOnlySpan<byte> path, int hash)
    {
        var mask = _slots.Length - 1;
        var tag = Tag(hash);
        var ordinalMask = _tagged ? OrdinalMask : int.MaxValue;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var slot = _slots[i];
            if (slot == 0)
            {
                return -1;
            }
            var ordinal = (slot & ordinalMask) - 1;
            if ((slot & ~ordinalMask) == tag && PathAt(ordinal).SequenceEqual(path))
            {
                return ordinal;
            }
        }
    }

    private int Tag(int hash) => _tagged ? hash >> OrdinalBits << OrdinalBits : 0;

    public bool IsRemoved(int ordinal) => IsRemovedIn(_removedBits, ordinal);

    /// <summary>The entry is replaced or deleted: it no longer counts. Writers only.</summary>
    public void MarkRemoved(int ordinal)
    {
        if (!IsRemoved(ordinal))
        {
            Interlocked.Or(ref _removedBits[ordinal >> 5], 1 << (ordinal & 31));
            Volatile.Write(ref _removed, _removed + 1);
        }
    }

    /// <summary>Which entries are removed now: what a commit writes is the entries not removed at its start.</summary>
    public int[] RemovedNow() => (int[])_removedBits.Clone();

    public int SeenGeneration(int ordinal) => Volatile.Read(ref _seen[ordinal]);

    public void MarkSeen(int ordinal, int generation) => Volatile.Write(ref _seen[ordinal], generation);

    /// <summary>The entries not removed in <paramref name="removed"/> (from <see cref="RemovedNow"/>), decoded one at a time, in path order.</summary>
    public IEnumerable<FileRecord> InOrder(int[] removed)
    {
        for (var ordinal = 0; ordinal < _locations.Length; ordinal++)
        {
            if (!IsRemovedIn(removed, ordinal))
            {
                yield return Decode(ordinal);
            }
        }
    }

    /// <summary>The entries not removed now, decoded one at a time (a moving view while a writer removes).</summary>
    public IEnumerable<FileRecord> Live() => InOrder(_removedBits);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public FileRecord Decode(int ordinal)
    {
        var (chunk, p) = Locate(ordinal);
        var path = ReadPath(chunk, ref p);
        var typeAndStatus = chunk[p++];
        var mode = (uint)ReadVarint(chunk, ref p);
        var owner = _owners[(int)ReadVarint(chunk, ref p)];
        var size = Unzigzag(ReadVarint(chunk, ref p));
        var mtime = BinaryPrimitives.ReadInt64LittleEndian(chunk.AsSpan(p));
        p += 8;
        var ctime = mtime + Unzigzag(ReadVarint(chunk, ref p));
        var inode = ReadVarint(chunk, ref p);
        var links = (uint)ReadVarint(chunk, ref p);
        var rare = _rares[(int)ReadVarint(chunk, ref p)];
        var slots = chunk[p++] - 1;
        var digests = RecordDigests.None;
        if (slots >= 0)
        {
            var present = chunk[p++];
            digests = RecordDigests.FromParts(present == 0 ? null! : chunk, p, present, slots);
        }
        var fields = new RecordFields
        {
            Path = path,
            Type = (FileType)(typeAndStatus & 0x0f),
            Mode = mode,
            Ownership = owner,
            Size = size,
            MtimeNs = mtime,
            CtimeNs = ctime,
            Inode = inode,
            LinkCount = links,
            Rare = rare,
            HashStatus = (HashStatus)(typeAndStatus >> 4),
            Digests = digests,
        };
        return fields.ToRecord(SeenGeneration(ordinal));
    }

    private ReadOnlySpan<byte> PathAt(int ordinal)
    {
        var (chunk, p) = Locate(ordinal);
        return ReadPath(chunk, ref p);
    }

    private (byte[] Chunk, int Offset) Locate(int ordinal)
    {
        var (chunk, offset) = Split(_locations[ordinal]);
        return (_chunks[chunk], offset);
    }

    private static (int Chunk, int Offset) Split(int location) => (location >> ChunkBits, location & (ChunkSize - 1));

    /// <summary>The path an entry starts with; <paramref name="p"/> moves past it.</summary>
    private static ReadOnlySpan<byte> ReadPath(byte[] chunk, scoped ref int p)
    {
        var length = (int)ReadVarint(chunk, ref p);
        var path = new ReadOnlySpan<byte>(chunk, p, length);
        p += length;
        return path;
    }

    private static bool IsRemovedIn(int[] bits, int ordinal) => (Volatile.Read(ref bits[ordinal >> 5]) & (1 << (ordinal & 31))) != 0;

    private static ulong ReadVarint(byte[] buffer, ref int p)
    {
        ulong result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = buffer[p++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }
    }

    private static long Unzigzag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    private static ulong Zigzag(long v) => (ulong)((v << 1) ^ (v >> 63));

    /// <summary>Appends records (in path order, as a snapshot holds them, or in any order and then <see cref="SortByPath"/>) and freezes them.</summary>
    public sealed class Builder
    {
        private readonly List<byte[]> _chunks = [];
        private readonly List<int> _locations;
        private readonly Dictionary<object, int> _ownerIndex = new(ReferenceEqualityComparer.Instance);
        private readonly List<Ownership?> _owners = [null];
        private readonly Dictionary<object, int> _rareIndex = new(ReferenceEqualityComparer.Instance);
        private readonly List<RareFields?> _rares = [null];
        private byte[] _chunk = [];
        private int _used;

        public Builder(int capacity) => _locations = new List<int>(capacity);

        /// <summary>The path of the entry added last (empty before the first).</summary>
        public ReadOnlySpan<byte> LastPath
        {
            get
            {
                if (_locations.Count == 0)
                {
                    return default;
                }
                return PathAt(_chunks, _locations[^1]);
            }
        }

        public void Add(FileRecord record) => Add(RecordFields.Of(record));

        /// <summary>Appends one entry; its digests are copied, so their buffer may be reused once this returns.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Add(in RecordFields record)
        {
            var packed = record.Digests.PackedForm(out var present);
            var length = MaxVarint * 8 + record.Path.Length + 1 + 8 + 2 + packed.Length;
            if (_chunk.Length - _used < length)
            {
                // An entry longer than a chunk (a path far past PATH_MAX) gets one of its own size, at offset 0.
                NewChunk(Math.Max(ChunkSize, length));
            }
            var location = (_chunks.Count - 1) << ChunkBits | _used;
            var c = _chunk;
            var p = _used;
            WriteVarint(c, ref p, (ulong)record.Path.Length);
            record.Path.CopyTo(c.AsSpan(p));
            p += record.Path.Length;
            c[p++] = (byte)((byte)record.Type | (byte)record.HashStatus << 4);
            WriteVarint(c, ref p, record.Mode);
            WriteVarint(c, ref p, (ulong)IndexOf(_ownerIndex, _owners, record.Ownership));
            WriteVarint(c, ref p, Zigzag(record.Size));
            BinaryPrimitives.WriteInt64LittleEndian(c.AsSpan(p), record.MtimeNs);
            p += 8;
            WriteVarint(c, ref p, Zigzag(record.CtimeNs - record.MtimeNs));
            WriteVarint(c, ref p, record.Inode);
            WriteVarint(c, ref p, record.LinkCount);
            WriteVarint(c, ref p, (ulong)IndexOf(_rareIndex, _rares, record.Rare));
            c[p++] = (byte)(record.Digests.Slots + 1);
            if (!record.Digests.IsNone)
            {
                c[p++] = present;
                packed.CopyTo(c.AsSpan(p));
                p += packed.Length;
            }
            _used = p;
            _locations.Add(location);
        }

        /// <summary>
        /// Puts the entries in path order when they were added in any order (as a parallel walk finds them), leaving
        /// out those whose path is in <paramref name="drop"/>; of two entries for one path, the one added last stays.
        /// </summary>
        public void SortByPath(HashSet<byte[]>? drop)
        {
            var chunks = _chunks;
            var locations = CollectionsMarshal.AsSpan(_locations);
            // A location grows with every entry added, so it orders entries of one path by when they came.
            locations.Sort((a, b) => PathAt(chunks, a).SequenceCompareTo(PathAt(chunks, b)) is var c and not 0 ? c : a.CompareTo(b));
            var dropped = drop?.GetAlternateLookup<ReadOnlySpan<byte>>();
            var kept = 0;
            for (var i = 0; i < locations.Length; i++)
            {
                var path = PathAt(chunks, locations[i]);
                var replaced = i + 1 < locations.Length && PathAt(chunks, locations[i + 1]).SequenceEqual(path);
                if (!replaced && dropped?.Contains(path) != true)
                {
                    locations[kept++] = locations[i];
                }
            }
            _locations.RemoveRange(kept, _locations.Count - kept);
        }

        private static ReadOnlySpan<byte> PathAt(List<byte[]> chunks, int location)
        {
            var (chunk, p) = Split(location);
            return ReadPath(chunks[chunk], ref p);
        }

        public FrozenRecords Build()
        {
            if (_chunks.Count > 0 && _used < _chunk.Length)
            {
                // The last chunk is cut to what it holds: a baseline of a few files does not keep a megabyte.
                Array.Resize(ref _chunk, _used);
                _chunks[^1] = _chunk;
            }
            return new FrozenRecords([.. _chunks], [.. _locations], [.. _owners], [.. _rares]);
        }

        private const int MaxVarint = 10;

        private void NewChunk(int size)
        {
            if (_chunks.Count == MaxChunks)
            {
                throw new InvalidOperationException($"the baseline is too large to hold in memory ({MaxChunks} MiB of records)");
            }
            _chunk = GC.AllocateUninitializedArray<byte>(size);
            _chunks.Add(_chunk);
            _used = 0;
        }

        private static int IndexOf<T>(Dictionary<object, int> index, List<T?> table, T? value) where T : class
        {
            if (value is null)
            {
                return 0;
            }
            if (!index.TryGetValue(value, out var i))
            {
                i = table.Count;
                table.Add(value);
                index.Add(value, i);
            }
            return i;
        }

        private static void WriteVarint(byte[] buffer, ref int p, ulong value)
        {
            while (value >= 0x80)
            {
                buffer[p++] = (byte)(value | 0x80);
                value >>= 7;
            }
            buffer[p++] = (byte)value;
        }
    }
}

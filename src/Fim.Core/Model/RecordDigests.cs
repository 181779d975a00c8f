namespace Fim.Core.Model;

/// <summary>
/// A record's content digests, packed: for each present <see cref="HashAlgorithmKind"/> in index order, one length
/// byte then the digest, in a region of a shared buffer. Records of a store share a few large buffers
/// (<see cref="DigestSlab"/>) instead of holding an array of arrays each, so a million records cost about their
/// digest bytes, not a million arrays. Immutable once made; copying the struct shares the bytes.
/// </summary>
public readonly struct RecordDigests
{
    /// <summary>Digests longer than this cannot be packed (the longest real one, SHA-512, is 64 bytes).</summary>
    public const int MaxDigestLength = 255;

    /// <summary>Slots beyond this cannot be packed (there are <see cref="HashAlgorithmNames.Count"/> kinds).</summary>
    public const int MaxSlots = 8;

    private readonly byte[]? _buffer;
    private readonly int _offset;
    private readonly byte _present;
    // The length of the unpacked array: -1 for none (null), else slots including null ones, so a round trip keeps the shape.
    private readonly sbyte _slots;

    private RecordDigests(byte[]? buffer, int offset, byte present, sbyte slots)
    {
        _buffer = buffer;
        _offset = offset;
        _present = present;
        _slots = slots;
    }

    /// <summary>No digests (the unpacked form is null).</summary>
    public static RecordDigests None => new(null, 0, 0, -1);

    /// <summary>-1 when there are none (null), else the length of the unpacked array.</summary>
    public int Slots => _slots;

    public bool IsNone => _slots < 0;

    public bool Has(HashAlgorithmKind kind) => (_present & (1 << (int)kind)) != 0;

    /// <summary>The digest of <paramref name="kind"/>, or an empty span when there is none.</summary>
    public ReadOnlySpan<byte> Get(HashAlgorithmKind kind) => Get((int)kind, out _);

    /// <summary>Packs digests indexed by <see cref="HashAlgorithmKind"/> (null entries are absent) into this thread's slab.</summary>
    public static RecordDigests Pack(IReadOnlyList<byte[]?>? hashes) => Pack(hashes, DigestSlab.ForThisThread);

    internal static RecordDigests Pack(IReadOnlyList<byte[]?>? hashes, DigestSlab slab)
    {
        if (hashes is null)
        {
            return None;
        }
        if (hashes.Count > MaxSlots)
        {
            throw new ArgumentException($"at most {MaxSlots} digest slots can be packed, got {hashes.Count}", nameof(hashes));
        }
        var length = 0;
        byte present = 0;
        for (var i = 0; i < hashes.Count; i++)
        {
            if (hashes[i] is { } h)
            {
                if (h.Length > MaxDigestLength)
                {
                    throw new ArgumentException($"a digest of {h.Length} bytes is longer than {MaxDigestLength}", nameof(hashes));
                }
                length += 1 + h.Length;
                present |= (byte)(1 << i);
            }
        }
        if (length == 0)
        {
            return new(null, 0, 0, (sbyte)hashes.Count);
        }
        var (buffer, offset) = slab.Reserve(length);
        var w = offset;
        for (var i = 0; i < hashes.Count; i++)
        {
            if (hashes[i] is { } h)
            {
                buffer[w++] = (byte)h.Length;
                h.CopyTo(buffer, w);
                w += h.Length;
            }
        }
        return new(buffer, offset, present, (sbyte)hashes.Count);
    }

    /// <summary>Digests already laid out in the packed form at <paramref name="offset"/> of <paramref name="buffer"/> (the store's loader writes them there).</summary>
    internal static RecordDigests FromParts(byte[] buffer, int offset, byte present, int slots) => new(buffer, offset, present, (sbyte)slots);

    /// <summary>Which slots hold a digest, and the packed bytes (each present digest as a length byte then its bytes).</summary>
    internal ReadOnlySpan<byte> PackedForm(out byte present)
    {
        present = _present;
        var end = _offset;
        for (var i = 0; i < MaxSlots; i++)
        {
            if ((_present & (1 << i)) != 0)
            {
                end += 1 + _buffer![end];
            }
        }
        return _buffer is null ? default : new ReadOnlySpan<byte>(_buffer, _offset, end - _offset);
    }

    /// <summary>The unpacked form (a copy): one array per present digest, null where absent; null when there are none.</summary>
    public byte[]?[]? ToArrays()
    {
        if (_slots < 0)
        {
            return null;
        }
        var result = new byte[]?[_slots];
        for (var i = 0; i < _slots; i++)
        {
            var d = Get(i, out var found);
            result[i] = found ? d.ToArray() : null;
        }
        return result;
    }

    private ReadOnlySpan<byte> Get(int slot, out bool found)
    {
        found = slot < MaxSlots && (_present & (1 << slot)) != 0;
        if (!found)
        {
            return default;
        }
        var p = _offset;
        for (var i = 0; i < slot; i++)
        {
            if ((_present & (1 << i)) != 0)
            {
                p += 1 + _buffer![p];
            }
        }
        return new ReadOnlySpan<byte>(_buffer, p + 1, _buffer![p]);
    }

    /// <summary>Equal digests in every slot (absent equals absent).</summary>
    public bool SameDigests(RecordDigests other)
    {
        for (var i = 0; i < HashAlgorithmNames.Count; i++)
        {
            if (!Get((HashAlgorithmKind)i).SequenceEqual(other.Get((HashAlgorithmKind)i)))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>
/// Large buffers that packed digests are carved from, so records hold a region of one instead of arrays of their own.
/// Not thread-safe: a slab belongs to one loader or one thread (<see cref="ForThisThread"/>).
/// </summary>
internal sealed class DigestSlab
{
    private const int ChunkSize = 32 * 1024;

    [ThreadStatic] private static DigestSlab? t_slab;

    private byte[] _chunk = [];
    private int _used;

    public static DigestSlab ForThisThread => t_slab ??= new DigestSlab();

    /// <summary>Reuses the current chunk from its start: what was reserved from it must no longer be in use.</summary>
    public void Rewind() => _used = 0;

    public (byte[] Buffer, int Offset) Reserve(int length)
    {
        if (length > ChunkSize / 4)
        {
            return (new byte[length], 0);
        }
        if (_chunk.Length - _used < length)
        {
            _chunk = GC.AllocateUninitializedArray<byte>(ChunkSize);
            _used = 0;
        }
        var offset = _used;
        _used += length;
        return (_chunk, offset);
    }
}

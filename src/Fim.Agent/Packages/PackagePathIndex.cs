using System.IO.Hashing;
using System.Numerics;
using System.Text;

namespace Fim.Agent.Packages;

/// <summary>
/// The paths of a package database and what the index knows of each, packed: every path's UTF-8 bytes in one buffer,
/// one fixed-size entry per path and an open-addressing table of entry numbers. A host's 140,000 packaged paths cost
/// about their bytes plus 40 bytes each, where a dictionary of strings cost about 200 (UTF-16 strings, a node each),
/// which was most of an idle agent's memory. Written by one thread while it is built, then only read.
/// </summary>
internal sealed class PackagePathIndex
{
    private static readonly UTF8Encoding Utf8 = new(false, false);

    private byte[] _bytes = new byte[64 * 1024];
    private int _bytesUsed;
    private Slot[] _slots = new Slot[1024];
    private int[] _table = new int[2048];
    private int _count;

    public int Count => _count;

    /// <summary>Adds <paramref name="path"/> with <paramref name="entry"/>; false (nothing changed) when it is already there.</summary>
    public bool TryAdd(string path, PackagePathEntry entry, out int number) => Add(path, entry, overwrite: false, out number);

    /// <summary>Adds <paramref name="path"/>, or replaces what the index holds for it.</summary>
    public void Set(string path, PackagePathEntry entry) => Add(path, entry, overwrite: true, out _);

    public bool TryGet(string path, out PackagePathEntry entry, out int number)
    {
        var bytes = Encode(path, out var rented);
        try
        {
            number = Find(bytes);
            entry = number >= 0 ? _slots[number].Entry : default;
            return number >= 0;
        }
        finally
        {
            Return(rented);
        }
    }

    public bool Contains(ReadOnlySpan<byte> path) => Find(path) >= 0;

    /// <summary>Every path (as its UTF-8 bytes, valid until the next write) with its entry.</summary>
    public IEnumerable<(int Number, PackagePathEntry Entry)> Entries()
    {
        for (var i = 0; i < _count; i++)
        {
            yield return (i, _slots[i].Entry);
        }
    }

    public ReadOnlySpan<byte> PathBytes(int number) => _bytes.AsSpan(_slots[number].Offset, _slots[number].Length);

    public string PathOf(int number) => Utf8.GetString(PathBytes(number));

    /// <summary>Gives back the slack of the growing buffers once the index is complete.</summary>
    public void Trim()
    {
        Array.Resize(ref _bytes, Math.Max(_bytesUsed, 1));
        Array.Resize(ref _slots, Math.Max(_count, 1));
    }

    private bool Add(string path, PackagePathEntry entry, bool overwrite, out int number)
    {
        var bytes = Encode(path, out var rented);
        try
        {
            var hash = Hash(bytes);
            var mask = _table.Length - 1;
            var i = hash & mask;
            for (; _table[i] != 0; i = (i + 1) & mask)
            {
                var n = _table[i] - 1;
                if (PathBytes(n).SequenceEqual(bytes))
                {
                    if (overwrite)
                    {
                        _slots[n].Entry = entry;
                    }
                    number = n;
                    return false;
                }
            }
            if (_count == _slots.Length)
            {
                Array.Resize(ref _slots, _slots.Length * 2);
            }
            if (_bytesUsed + bytes.Length > _bytes.Length)
            {
                Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _bytesUsed + bytes.Length));
            }
            bytes.CopyTo(_bytes.AsSpan(_bytesUsed));
            number = _count++;
            _slots[number] = new Slot { Offset = _bytesUsed, Length = bytes.Length, Entry = entry };
            _bytesUsed += bytes.Length;
            _table[i] = number + 1;
            if (_count * 2 > _table.Length)
            {
                Rehash(_table.Length * 2);
            }
            return true;
        }
        finally
        {
            Return(rented);
        }
    }

    private int Find(ReadOnlySpan<byte> path)
    {
        var mask = _table.Length - 1;
        for (var i = Hash(path) & mask; _table[i] != 0; i = (i + 1) & mask)
        {
            var n = _table[i] - 1;
            if (PathBytes(n).SequenceEqual(path))
            {
                return n;
            }
        }
        return -1;
    }

    private void Rehash(int size)
    {
        var table = new int[size];
        var mask = size - 1;
        for (var n = 0; n < _count; n++)
        {
            var i = Hash(PathBytes(n)) & mask;
            while (table[i] != 0)
            {
                i = (i + 1) & mask;
            }
            table[i] = n + 1;
        }
        _table = table;
    }

    private static int Hash(ReadOnlySpan<byte> path) => unchecked((int)XxHash3.HashToUInt64(path)) & int.MaxValue;

    private static ReadOnlySpan<byte> Encode(string path, out byte[]? rented)
    {
        rented = System.Buffers.ArrayPool<byte>.Shared.Rent(Utf8.GetMaxByteCount(path.Length));
        return rented.AsSpan(0, Utf8.GetBytes(path, rented));
    }

    private static void Return(byte[]? rented)
    {
        if (rented is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private struct Slot
    {
        public int Offset;
        public int Length;
        public PackagePathEntry Entry;
    }
}

/// <summary>What the index knows of one path: its package (a number in the database's list), and dpkg's MD5 if it keeps one.</summary>
/// <remarks>The digest is kept as two halves: a UInt128 field would align the entry to 16 bytes and pad it to 48.</remarks>
internal readonly struct PackagePathEntry(int package, UInt128 md5, bool hasDigest, bool conffile)
{
    private readonly ulong _md5High = (ulong)(md5 >> 64);
    private readonly ulong _md5Low = (ulong)md5;

    public int Package { get; } = package;

    public UInt128 Md5 => new(_md5High, _md5Low);

    public bool HasDigest { get; } = hasDigest;

    public bool Conffile { get; } = conffile;
}

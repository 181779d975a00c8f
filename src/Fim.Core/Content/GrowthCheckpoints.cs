using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Fim.Core.Content;

/// <summary>
/// The checkpoints of one append-only file: SHA-256 of each 1 MiB chunk up to the last verified size, with the
/// inode they belong to. An append is verified by re-reading only the last, partial chunk and a few "rolling" chunks
/// (the next ones in turn, so every chunk is re-verified over time), then hashing the new bytes: a 1 GB log does not
/// get re-read on each append. A size that did not grow while the file changed re-verifies every chunk.
/// </summary>
internal sealed class GrowthCheckpoint
{
    public const int ChunkSize = 1 << 20;
    public const int RollingChunks = 4;
    private const int HashSize = 32;
    private const int HeaderSize = 8 + 8 + 8 + 4;

    public ulong Inode { get; init; }
    public ulong Device { get; init; }
    public long Size { get; init; }
    public int NextRolling { get; init; }
    public required List<byte[]> Chunks { get; init; }

    public byte[] Encode()
    {
        var data = new byte[HeaderSize + Chunks.Count * HashSize];
        BinaryPrimitives.WriteUInt64LittleEndian(data, Inode);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8), Device);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(16), Size);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(24), NextRolling);
        for (var i = 0; i < Chunks.Count; i++)
        {
            Chunks[i].CopyTo(data.AsSpan(HeaderSize + i * HashSize));
        }
        return data;
    }

    public static GrowthCheckpoint? Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderSize || (data.Length - HeaderSize) % HashSize != 0)
        {
            return null;
        }
        var size = BinaryPrimitives.ReadInt64LittleEndian(data[16..]);
        var count = (data.Length - HeaderSize) / HashSize;
        if (size < 0 || count != ChunkCount(size))
        {
            return null;
        }
        var chunks = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            chunks.Add(data.Slice(HeaderSize + i * HashSize, HashSize).ToArray());
        }
        return new GrowthCheckpoint
        {
            Inode = BinaryPrimitives.ReadUInt64LittleEndian(data),
            Device = BinaryPrimitives.ReadUInt64LittleEndian(data[8..]),
            Size = size,
            NextRolling = BinaryPrimitives.ReadInt32LittleEndian(data[24..]),
            Chunks = chunks,
        };
    }

    private static int ChunkCount(long size) => (int)((size + ChunkSize - 1) / ChunkSize);

    /// <summary>Checkpoints of the whole current content (a new or replaced file: one full read).</summary>
    public static GrowthCheckpoint Build(MonitoredFile file)
    {
        var chunks = new List<byte[]>();
        var size = HashFrom(file, 0, chunks);
        return new GrowthCheckpoint { Inode = file.Stat.Inode, Device = file.Stat.Device, Size = size, Chunks = chunks };
    }

    /// <summary>
    /// Verifies that the bytes below <see cref="Size"/> are as recorded (the last chunk, the rolling chunks, or every
    /// chunk when <paramref name="all"/>) and returns the checkpoints extended to the current end, or null with the
    /// offset of the first chunk found changed.
    /// </summary>
    public GrowthCheckpoint? Extend(MonitoredFile file, bool all, out long changedAt)
    {
        changedAt = -1;
        var full = (int)(Size / ChunkSize);
        var buffer = new byte[ChunkSize];
        var toCheck = all ? Enumerable.Range(0, full) : Rolling(full);
        foreach (var i in toCheck)
        {
            if (!Matches(file, buffer, i, ChunkSize))
            {
                changedAt = (long)i * ChunkSize;
                return null;
            }
        }
        var tail = (int)(Size % ChunkSize);
        if (tail > 0 && !Matches(file, buffer, full, tail))
        {
            changedAt = (long)full * ChunkSize;
            return null;
        }
        var chunks = Chunks.Take(full).ToList();
        var size = HashFrom(file, (long)full * ChunkSize, chunks);
        return new GrowthCheckpoint
        {
            Inode = Inode,
            Device = Device,
            Size = size,
            NextRolling = full == 0 ? 0 : (NextRolling + RollingChunks) % Math.Max(1, full),
            Chunks = chunks,
        };
    }

    private IEnumerable<int> Rolling(int full)
    {
        if (full == 0)
        {
            yield break;
        }
        var count = Math.Min(RollingChunks, full);
        for (var k = 0; k < count; k++)
        {
            yield return (NextRolling + k) % full;
        }
    }

    private bool Matches(MonitoredFile file, byte[] buffer, int index, int length)
    {
        var n = file.Read(buffer.AsSpan(0, length), (long)index * ChunkSize);
        return n == length && SHA256.HashData(buffer.AsSpan(0, length)).AsSpan().SequenceEqual(Chunks[index]);
    }

    /// <summary>Hashes chunks from <paramref name="offset"/> (a chunk boundary) to the end of the file; returns the size reached.</summary>
    private static long HashFrom(MonitoredFile file, long offset, List<byte[]> chunks)
    {
        var buffer = new byte[ChunkSize];
        while (true)
        {
            var n = file.Read(buffer, offset);
            if (n == 0)
            {
                return offset;
            }
            chunks.Add(SHA256.HashData(buffer.AsSpan(0, n)));
            offset += n;
            if (n < ChunkSize)
            {
                return offset;
            }
        }
    }
}

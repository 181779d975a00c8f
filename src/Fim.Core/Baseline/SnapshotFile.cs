using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Fim.Core.Model;

namespace Fim.Core.Baseline;

/// <summary>What a snapshot's header and seal say, besides its records.</summary>
internal sealed record SnapshotInfo(byte[] Mac, DateTimeOffset CreatedAt, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// The snapshot file: "FIMSNAP1", u32 header length, header (u16 format version, i64 created Unix ms,
/// 16-byte random nonce, i64 record count, 8-byte key id, metadata count then UTF-8 key/value pairs),
/// the records sorted by path, each u32 length + <see cref="FileRecordCodec"/> bytes, then the seal:
/// "FIMSEAL1", i64 record count and HMAC-SHA256 over every byte before the MAC. Format version 2 (written only when
/// events wait in the outbox, so version 1 readers keep reading outbox-free snapshots) adds, between the records and
/// the seal, "FIMOUTB1", i64 event count and each event as u32 length + <see cref="OutboxEventCodec"/> bytes.
/// </summary>
internal static class SnapshotFile
{
    public const ushort FormatVersion = 1;
    public const ushort OutboxFormatVersion = 2;
    public const int MacSize = 32;
    private const int MaxHeaderBytes = 1 << 20;
    private const int MaxRecordBytes = 64 << 20;
    private const int MinRecordBytes = 4 + 40;

    private static ReadOnlySpan<byte> Magic => "FIMSNAP1"u8;

    private static ReadOnlySpan<byte> SealMagic => "FIMSEAL1"u8;

    private static ReadOnlySpan<byte> OutboxMagic => "FIMOUTB1"u8;

    /// <summary>Writes and seals a snapshot of <paramref name="sorted"/> to <paramref name="file"/>; returns its MAC. Does not fsync.</summary>
    // Hot loops run once per save or open, over every record: optimised code from the first call, not tier-0.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static byte[] Write(FileStream file, BaselineKey key, IReadOnlyCollection<FileRecord> sorted, IReadOnlyDictionary<string, string> metadata, DateTimeOffset createdAt,
        IReadOnlyCollection<OutboxEvent>? outbox = null)
    {
        var version = outbox is { Count: > 0 } ? OutboxFormatVersion : FormatVersion;
        using var mac = key.CreateMac();
        var w = new BufferedFileWriter(file, mac);
        w.Write(Magic);
        var header = EncodeHeader(key, version, sorted.Count, metadata, createdAt);
        BinaryPrimitives.WriteUInt32LittleEndian(w.GetSpan(4), (uint)header.Length);
        w.Advance(4);
        w.Write(header);
        foreach (var record in sorted)
        {
            var length = FileRecordCodec.GetEncodedLength(record);
            if (length > MaxRecordBytes)
            {
                throw new ArgumentException($"the record of {PathBytes.ToDisplay(record.Path)} encodes to {length} bytes, more than the {MaxRecordBytes} allowed");
            }
            var span = w.GetSpan(4 + length);
            BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)length);
            FileRecordCodec.Encode(record, span[4..]);
            w.Advance(4 + length);
        }
        if (version == OutboxFormatVersion)
        {
            w.Write(OutboxMagic);
            BinaryPrimitives.WriteInt64LittleEndian(w.GetSpan(8), outbox!.Count);
            w.Advance(8);
            foreach (var e in outbox)
            {
                var length = OutboxEventCodec.GetEncodedLength(e);
                var span = w.GetSpan(4 + length);
                BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)length);
                OutboxEventCodec.Encode(e, span[4..]);
                w.Advance(4 + length);
            }
        }
        w.Write(SealMagic);
        BinaryPrimitives.WriteInt64LittleEndian(w.GetSpan(8), sorted.Count);
        w.Advance(8);
        var seal = w.CurrentMac();
        w.Write(seal);
        w.Flush();
        return seal;
    }

    /// <summary>Reads and verifies a snapshot; throws <see cref="BaselineIntegrityException"/> when it cannot be trusted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static SnapshotInfo Read(string path, BaselineKey key, out BaselineRecords records, PendingEvents outbox)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        using var mac = key.CreateMac();
        var r = new BufferedFileReader(file, mac);

        BaselineIntegrityException Refuse(BaselineIntegrityProblem problem, string detail, Exception? inner = null) =>
            new(path, problem, detail, inner);
        ReadOnlySpan<byte> Need(int count, string what) => r.TryRead(count, out var data)
            ? data
            : throw Refuse(BaselineIntegrityProblem.Truncated,
                $"the snapshot is truncated: it ends ({r.Length} bytes) inside the {what}, before its seal");

        if (!Need(Magic.Length, "file signature").SequenceEqual(Magic))
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, "it does not start with the FIMSNAP1 signature, so it is not a baseline snapshot (replaced or overwritten)");
        }
        var headerLength = BinaryPrimitives.ReadUInt32LittleEndian(Need(4, "header"));
        if (headerLength > MaxHeaderBytes)
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, $"its header claims {headerLength} bytes; the snapshot was modified or damaged");
        }
        var header = Need((int)headerLength, "header");
        long count;
        ushort version;
        DateTimeOffset createdAt;
        Dictionary<string, string> metadata;
        try
        {
            var h = new SpanReader(header);
            version = h.UInt16("format version");
            if (version is not FormatVersion and not OutboxFormatVersion)
            {
                throw Refuse(BaselineIntegrityProblem.UnsupportedFormat,
                    $"it has format version {version}, but this agent reads versions {FormatVersion} and {OutboxFormatVersion} (written by a newer agent, or damaged)");
            }
            createdAt = DateTimeOffset.FromUnixTimeMilliseconds(h.Int64("created"));
            h.Bytes(16, "nonce");
            count = h.Int64("record count");
            var keyId = Convert.ToHexStringLower(h.Bytes(8, "key id"));
            if (keyId != key.KeyId)
            {
                throw Refuse(BaselineIntegrityProblem.WrongKey,
                    $"it was sealed with key id {keyId}, but the key file {key.FilePath} has key id {key.KeyId}: the key does not match " +
                    "(a different key file, or the store was replaced by one sealed with another key)");
            }
            var pairs = h.Count("metadata", 2);
            metadata = new Dictionary<string, string>(pairs, StringComparer.Ordinal);
            for (var i = 0; i < pairs; i++)
            {
                var name = FileRecordCodec.DecodeUtf8(h.Bytes(h.Length("metadata key"), "metadata key"), "metadata key");
                metadata[name] = FileRecordCodec.DecodeUtf8(h.Bytes(h.Length("metadata value"), "metadata value"), "metadata value");
            }
            if (!h.AtEnd)
            {
                throw new FormatException($"{h.Remaining} unexpected bytes at the end of the header");
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException)
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, $"its header is malformed ({e.Message}); the snapshot was modified or damaged", e);
        }
        if (count < 0 || count > r.Remaining / MinRecordBytes)
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, $"its header claims {count} records, which cannot fit in the file; the snapshot was modified or damaged");
        }

        // Each record goes from its sealed encoding straight to its frozen one: no object per record, and its digests
        // pass through one slab reused for the next.
        var frozen = new FrozenRecords.Builder((int)count);
        var names = new StringPool();
        var digestSlab = new DigestSlab();
        for (long i = 0; i < count; i++)
        {
            var offset = r.Position;
            var length = BinaryPrimitives.ReadUInt32LittleEndian(Need(4, $"record {i}"));
            if (length == 0 || length > MaxRecordBytes)
            {
                throw Refuse(BaselineIntegrityProblem.Tampered, $"record {i} at offset {offset} claims {length} bytes; the snapshot was modified or damaged");
            }
            RecordFields record;
            try
            {
                FileRecordCodec.Read(Need((int)length, $"record {i}"), names, digestSlab, out record);
            }
            catch (FormatException e)
            {
                throw Refuse(BaselineIntegrityProblem.Tampered, $"record {i} at offset {offset} is malformed ({e.Message}); the snapshot was modified or damaged", e);
            }
            if (i > 0 && frozen.LastPath.SequenceCompareTo(record.Path) >= 0)
            {
                throw Refuse(BaselineIntegrityProblem.Tampered, $"record {i} at offset {offset} is out of order or duplicated; the snapshot was modified or damaged");
            }
            frozen.Add(record);
            digestSlab.Rewind();
        }
        records = new BaselineRecords(frozen.Build());

        if (version == OutboxFormatVersion)
        {
            ReadOutbox(r, outbox, Need, Refuse);
        }

        if (!Need(SealMagic.Length, "seal").SequenceEqual(SealMagic))
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, $"the seal signature is missing after the {count} records the header announces; records were added or removed");
        }
        var sealedCount = BinaryPrimitives.ReadInt64LittleEndian(Need(8, "seal"));
        if (sealedCount != count)
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, $"the seal counts {sealedCount} records but the header {count}; records were added or removed");
        }
        var expected = r.CurrentMac();
        if (!CryptographicOperations.FixedTimeEquals(expected, Need(MacSize, "seal")))
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, "its content does not match its seal (HMAC-SHA256): it was modified after it was written");
        }
        if (r.Remaining != 0)
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, $"{r.Remaining} bytes follow the seal; data was appended to the snapshot");
        }
        return new SnapshotInfo(expected, createdAt, metadata.AsReadOnly());
    }

    private delegate ReadOnlySpan<byte> NeedBytes(int count, string what);

    private static void ReadOutbox(BufferedFileReader r, PendingEvents outbox, NeedBytes need,
        Func<BaselineIntegrityProblem, string, Exception?, BaselineIntegrityException> refuse)
    {
        if (!need(OutboxMagic.Length, "outbox").SequenceEqual(OutboxMagic))
        {
            throw refuse(BaselineIntegrityProblem.Tampered, "the outbox section is missing after the records; the snapshot was modified or damaged", null);
        }
        var count = BinaryPrimitives.ReadInt64LittleEndian(need(8, "outbox"));
        if (count < 0 || count > r.Remaining / 12)
        {
            throw refuse(BaselineIntegrityProblem.Tampered, $"the outbox claims {count} events, which cannot fit in the file; the snapshot was modified or damaged", null);
        }
        for (long i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadUInt32LittleEndian(need(4, $"outbox event {i}"));
            if (length == 0 || length > OutboxEventCodec.MaxPayloadBytes + 1024)
            {
                throw refuse(BaselineIntegrityProblem.Tampered, $"outbox event {i} claims {length} bytes; the snapshot was modified or damaged", null);
            }
            try
            {
                outbox.Add(OutboxEventCodec.Decode(need((int)length, $"outbox event {i}")));
            }
            catch (FormatException e)
            {
                throw refuse(BaselineIntegrityProblem.Tampered, $"outbox event {i} is malformed ({e.Message}); the snapshot was modified or damaged", e);
            }
        }
    }

    private static byte[] EncodeHeader(BaselineKey key, ushort version, int count, IReadOnlyDictionary<string, string> metadata, DateTimeOffset createdAt)
    {
        var pairs = metadata.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => (Key: System.Text.Encoding.UTF8.GetBytes(p.Key), Value: System.Text.Encoding.UTF8.GetBytes(p.Value)))
            .ToArray();
        var size = 2 + 8 + 16 + 8 + 8 + SpanWriter.LengthSize(pairs.Length);
        foreach (var (k, v) in pairs)
        {
            size += SpanWriter.LengthSize(k.Length) + k.Length + SpanWriter.LengthSize(v.Length) + v.Length;
        }
        if (size > MaxHeaderBytes)
        {
            throw new ArgumentException($"the metadata encodes to {size} bytes, more than the {MaxHeaderBytes} allowed", nameof(metadata));
        }
        var header = new byte[size];
        var w = new SpanWriter(header);
        w.UInt16(version);
        w.Int64(createdAt.ToUnixTimeMilliseconds());
        w.Bytes(RandomNumberGenerator.GetBytes(16));
        w.Int64(count);
        w.Bytes(Convert.FromHexString(key.KeyId));
        w.Length(pairs.Length);
        foreach (var (k, v) in pairs)
        {
            w.Length(k.Length);
            w.Bytes(k);
            w.Length(v.Length);
            w.Bytes(v);
        }
        return header;
    }
}

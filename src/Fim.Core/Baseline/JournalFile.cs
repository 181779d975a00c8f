using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Fim.Core.Baseline;

/// <summary>What reading a journal found.</summary>
internal sealed record JournalState(bool Stale, byte[] HeadMac, long ValidLength, int Entries, int TornEntriesDropped);

/// <summary>
/// The journal: updates appended since the snapshot. Header: "FIMJRNL1", u16 format version, the MAC of the
/// snapshot it extends, HMAC(key, those bytes). Then entries: u32 body length, u32 its complement (so a damaged
/// length is told apart from a short file), body (u8 flags: kind 1 upsert / 2 delete / 3 outbox event / 4 outbox
/// acknowledgement, 0x80 = last of its batch; then the <see cref="FileRecordCodec"/> record, the deleted path, the
/// <see cref="OutboxEventCodec"/> event, or a count and the u64 sequences acknowledged), and
/// HMAC(key, previous MAC || length fields || body), the chain starting at the snapshot's MAC. Entries take effect
/// only with the entry that ends their batch, so a batch torn by a crash is dropped whole: baseline updates and the
/// events that report them are committed together or not at all.
/// </summary>
internal static class JournalFile
{
    public const ushort FormatVersion = 1;
    public const int HeaderSize = 8 + 2 + SnapshotFile.MacSize + SnapshotFile.MacSize;
    private const int MacSize = SnapshotFile.MacSize;
    private const int MaxBodyBytes = (64 << 20) + 1;
    private const byte KindUpsert = 1;
    private const byte KindDelete = 2;
    private const byte KindEvent = 3;
    private const byte KindAck = 4;
    private const byte KindMask = 0x7f;
    private const byte EndOfBatch = 0x80;

    private static ReadOnlySpan<byte> Magic => "FIMJRNL1"u8;

    public static void WriteHeader(BufferedFileWriter w, BaselineKey key, byte[] snapshotMac)
    {
        var header = w.GetSpan(HeaderSize);
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header[8..], FormatVersion);
        snapshotMac.CopyTo(header[10..]);
        using var mac = key.CreateMac();
        mac.AppendData(header[..(HeaderSize - MacSize)]);
        mac.GetHashAndReset(header[(HeaderSize - MacSize)..]);
        w.Advance(HeaderSize);
    }

    /// <summary>
    /// Appends one batch (updates, then outbox events, then one acknowledgement entry); returns the MAC of its last
    /// entry, the new head of the chain. The batch must not be empty.
    /// </summary>
    public static byte[] WriteBatch(BufferedFileWriter w, BaselineKey key, byte[] previousMac, IReadOnlyList<BaselineUpdate> updates,
        IReadOnlyList<OutboxEvent>? events = null, IReadOnlyList<ulong>? acks = null)
    {
        events ??= [];
        var ackCount = acks is { Count: > 0 } ? 1 : 0;
        var total = updates.Count + events.Count + ackCount;
        if (total == 0)
        {
            throw new ArgumentException("a journal batch needs at least one entry");
        }
        using var mac = key.CreateMac();
        var chain = previousMac.ToArray();
        var index = 0;
        foreach (var (path, record) in updates)
        {
            var bodyLength = 1 + (record is null ? path.Length : FileRecordCodec.GetEncodedLength(record));
            var body = Begin(w, bodyLength, Model.PathBytes.ToDisplay(path));
            body[0] = Flags(record is null ? KindDelete : KindUpsert, ++index == total);
            if (record is null)
            {
                path.CopyTo(body[1..]);
            }
            else
            {
                FileRecordCodec.Encode(record, body[1..]);
            }
            Seal(w, mac, chain, bodyLength);
        }
        foreach (var e in events)
        {
            var bodyLength = 1 + OutboxEventCodec.GetEncodedLength(e);
            var body = Begin(w, bodyLength, "event " + e.MessageId);
            body[0] = Flags(KindEvent, ++index == total);
            OutboxEventCodec.Encode(e, body[1..]);
            Seal(w, mac, chain, bodyLength);
        }
        if (ackCount > 0)
        {
            var bodyLength = 1 + SpanWriter.LengthSize(acks!.Count) + 8 * acks.Count;
            var body = Begin(w, bodyLength, "acknowledgement");
            body[0] = Flags(KindAck, ++index == total);
            var sw = new SpanWriter(body[1..]);
            sw.Length(acks.Count);
            foreach (var seq in acks)
            {
                sw.UInt64(seq);
            }
            Seal(w, mac, chain, bodyLength);
        }
        return chain;
    }

    private static byte Flags(byte kind, bool last) => last ? (byte)(kind | EndOfBatch) : kind;

    /// <summary>Writes the length fields and returns the body span to fill.</summary>
    private static Span<byte> Begin(BufferedFileWriter w, int bodyLength, string what)
    {
        if (bodyLength > MaxBodyBytes)
        {
            throw new ArgumentException($"the journal entry for {what} encodes to {bodyLength} bytes, more than the {MaxBodyBytes} allowed");
        }
        var entry = w.GetSpan(8 + bodyLength + MacSize);
        BinaryPrimitives.WriteUInt32LittleEndian(entry, (uint)bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], ~(uint)bodyLength);
        return entry.Slice(8, bodyLength);
    }

    /// <summary>Chains the MAC over the entry started by <see cref="Begin"/> and commits it.</summary>
    private static void Seal(BufferedFileWriter w, IncrementalHash mac, byte[] chain, int bodyLength)
    {
        var entry = w.GetSpan(8 + bodyLength + MacSize);
        mac.AppendData(chain);
        mac.AppendData(entry[..(8 + bodyLength)]);
        mac.GetHashAndReset(chain);
        chain.CopyTo(entry[(8 + bodyLength)..]);
        w.Advance(entry.Length);
    }

    /// <summary>
    /// Verifies the journal and applies its complete batches to <paramref name="records"/>. A journal that extends
    /// another snapshot is reported stale and left untouched. A torn tail (the file ends inside an entry or inside
    /// a batch, or ends in zeros) is dropped and counted; anything else that does not verify is refused.
    /// </summary>
    // Hot loops run once per save or open, over every record: optimised code from the first call, not tier-0.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static JournalState Read(FileStream file, string path, BaselineKey key, byte[] snapshotMac, BaselineRecords records, PendingEvents outbox)
    {
        var r = new BufferedFileReader(file, bufferSize: 256 << 10);
        BaselineIntegrityException Refuse(BaselineIntegrityProblem problem, string detail) => new(path, problem, detail);

        // The header is written to a temporary file and renamed into place, so no crash leaves it short.
        if (!r.TryRead(HeaderSize, out var header) || !header.StartsWith(Magic))
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, "the journal header is missing or damaged (it is written atomically, so this is not a crash)");
        }
        var version = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        if (version != FormatVersion)
        {
            throw Refuse(BaselineIntegrityProblem.UnsupportedFormat, $"the journal has format version {version}, but this agent reads version {FormatVersion}");
        }
        using var mac = key.CreateMac();
        var computed = new byte[MacSize];
        mac.AppendData(header[..(HeaderSize - MacSize)]);
        mac.GetHashAndReset(computed);
        if (!CryptographicOperations.FixedTimeEquals(computed, header[(HeaderSize - MacSize)..]))
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, "the journal header does not match its seal: it was modified, or sealed with another key");
        }
        if (!header.Slice(10, MacSize).SequenceEqual(snapshotMac))
        {
            return new JournalState(true, snapshotMac, 0, 0, 0);
        }

        var chain = snapshotMac.ToArray();
        var committedHead = snapshotMac;
        var committedLength = r.Position;
        var committedEntries = 0;
        var batch = new List<Item>();
        var torn = 0;
        var index = 0;
        Span<byte> lengthBytes = stackalloc byte[8];
        while (r.Remaining > 0)
        {
            var offset = r.Position;
            if (!r.TryRead(8, out var lengths))
            {
                torn++;
                break;
            }
            var bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(lengths);
            if (BinaryPrimitives.ReadUInt32LittleEndian(lengths[4..]) != ~bodyLength || bodyLength == 0 || bodyLength > MaxBodyBytes)
            {
                // File systems may leave a zero-filled tail after a power loss; that is a torn tail, not tampering.
                if (!lengths.ContainsAnyExcept((byte)0) && r.RestIsZero())
                {
                    torn++;
                    break;
                }
                throw Refuse(BaselineIntegrityProblem.Tampered, $"journal entry {index} at offset {offset} has a damaged length field: the journal was modified");
            }
            var lengthFields = BinaryPrimitives.ReadUInt64LittleEndian(lengths);
            if (!r.TryRead((int)bodyLength + MacSize, out var rest))
            {
                torn++;
                break;
            }
            BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, lengthFields);
            var body = rest[..(int)bodyLength];
            mac.AppendData(chain);
            mac.AppendData(lengthBytes);
            mac.AppendData(body);
            mac.GetHashAndReset(chain);
            if (!CryptographicOperations.FixedTimeEquals(chain, rest[(int)bodyLength..]))
            {
                throw Refuse(BaselineIntegrityProblem.Tampered,
                    $"journal entry {index} at offset {offset} does not match its seal (HMAC-SHA256): it was modified, or entries were removed or reordered");
            }
            batch.Add(DecodeBody(body, index, offset, Refuse));
            index++;
            if ((body[0] & EndOfBatch) != 0)
            {
                foreach (var item in batch)
                {
                    Apply(item, records, outbox);
                }
                committedEntries += batch.Count;
                batch.Clear();
                committedHead = chain.ToArray();
                committedLength = r.Position;
            }
        }
        return new JournalState(false, committedHead, committedLength, committedEntries, torn + batch.Count);
    }

    /// <summary>One decoded entry: an update, an event, or acknowledged sequences.</summary>
    private readonly record struct Item(BaselineUpdate? Update, OutboxEvent? Event, ulong[]? Acks);

    private static void Apply(Item item, BaselineRecords records, PendingEvents outbox)
    {
        if (item.Update is { } u)
        {
            if (u.Record is null)
            {
                records.LoadDelete(u.Path);
            }
            else
            {
                records.Load(u.Record);
            }
        }
        else if (item.Event is { } e)
        {
            outbox.Add(e);
        }
        else
        {
            foreach (var seq in item.Acks!)
            {
                outbox.Remove(seq);
            }
        }
    }

    private static Item DecodeBody(ReadOnlySpan<byte> body, int index, long offset, Func<BaselineIntegrityProblem, string, BaselineIntegrityException> refuse)
    {
        try
        {
            switch (body[0] & KindMask)
            {
                case KindUpsert:
                    return new Item(BaselineUpdate.Upsert(FileRecordCodec.Decode(body[1..])), null, null);
                case KindDelete:
                    return new Item(BaselineUpdate.Delete(body[1..].ToArray()), null, null);
                case KindEvent:
                    return new Item(null, OutboxEventCodec.Decode(body[1..]), null);
                case KindAck:
                    var r = new SpanReader(body[1..]);
                    var acks = new ulong[r.Count("acknowledged sequences", 8)];
                    for (var i = 0; i < acks.Length; i++)
                    {
                        acks[i] = r.UInt64("acknowledged sequence");
                    }
                    if (!r.AtEnd)
                    {
                        throw new FormatException($"{r.Remaining} unexpected bytes after the acknowledged sequences");
                    }
                    return new Item(null, null, acks);
                default:
                    throw new FormatException($"unknown entry kind {body[0] & KindMask}");
            }
        }
        catch (FormatException e)
        {
            // The seal verified, so this was written by an agent that encodes differently.
            throw refuse(BaselineIntegrityProblem.UnsupportedFormat, $"journal entry {index} at offset {offset} cannot be decoded ({e.Message})");
        }
    }
}

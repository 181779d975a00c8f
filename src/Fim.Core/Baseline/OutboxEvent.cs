using System.Text;

namespace Fim.Core.Baseline;

/// <summary>
/// An event to deliver, as the caller hands it to the store: the id the receiver deduplicates on, an optional
/// W3C trace context, and the serialized event. The store journals it together with the baseline updates it reflects.
/// </summary>
public sealed record OutboxMessage(string MessageId, string? TraceParent, byte[] Payload);

/// <summary>An event waiting in the store's outbox until <see cref="BaselineStore.Acknowledge"/> removes it.</summary>
/// <param name="Sequence">Assigned by the store, increasing; only meaningful within one store.</param>
public sealed record OutboxEvent(ulong Sequence, string MessageId, string? TraceParent, byte[] Payload)
{
    /// <summary>Bytes this entry holds in memory and on disk, for the outbox cap.</summary>
    public int Size => Payload.Length + MessageId.Length + (TraceParent?.Length ?? 0) + 16;
}

/// <summary>Encoding of one outbox event in a journal entry body or a snapshot: u64 sequence, id, trace parent, payload.</summary>
internal static class OutboxEventCodec
{
    public const int MaxPayloadBytes = 16 << 20;

    public static int GetEncodedLength(OutboxEvent e)
    {
        var id = Encoding.UTF8.GetByteCount(e.MessageId);
        var trace = e.TraceParent is null ? 0 : Encoding.UTF8.GetByteCount(e.TraceParent);
        return 8 + SpanWriter.LengthSize(id) + id + SpanWriter.LengthSize(trace) + trace + SpanWriter.LengthSize(e.Payload.Length) + e.Payload.Length;
    }

    public static void Encode(OutboxEvent e, Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.UInt64(e.Sequence);
        w.Length(Encoding.UTF8.GetByteCount(e.MessageId));
        w.Utf8(e.MessageId);
        w.Length(e.TraceParent is null ? 0 : Encoding.UTF8.GetByteCount(e.TraceParent));
        if (e.TraceParent is not null)
        {
            w.Utf8(e.TraceParent);
        }
        w.Length(e.Payload.Length);
        w.Bytes(e.Payload);
    }

    /// <exception cref="FormatException">The bytes are not an encoded event.</exception>
    public static OutboxEvent Decode(ReadOnlySpan<byte> data)
    {
        var r = new SpanReader(data);
        var sequence = r.UInt64("outbox sequence");
        var id = FileRecordCodec.DecodeUtf8(r.Bytes(r.Length("message id"), "message id"), "message id");
        var traceLength = r.Length("trace parent");
        var trace = traceLength == 0 ? null : FileRecordCodec.DecodeUtf8(r.Bytes(traceLength, "trace parent"), "trace parent");
        var payloadLength = r.Length("payload");
        if (payloadLength > MaxPayloadBytes)
        {
            throw new FormatException($"the event payload claims {payloadLength} bytes, more than {MaxPayloadBytes}");
        }
        var payload = r.Bytes(payloadLength, "payload").ToArray();
        if (!r.AtEnd)
        {
            throw new FormatException($"{r.Remaining} unexpected bytes after the event");
        }
        return new OutboxEvent(sequence, id, trace, payload);
    }
}

/// <summary>The events not acknowledged yet, by sequence. Not thread-safe: the store guards it.</summary>
internal sealed class PendingEvents
{
    private readonly SortedDictionary<ulong, OutboxEvent> _events = [];

    public int Count => _events.Count;

    public long Bytes { get; private set; }

    public ulong NextSequence { get; private set; } = 1;

    public IEnumerable<OutboxEvent> All => _events.Values;

    public void Add(OutboxEvent e)
    {
        if (_events.TryAdd(e.Sequence, e))
        {
            Bytes += e.Size;
        }
        NextSequence = Math.Max(NextSequence, e.Sequence + 1);
    }

    public bool Contains(ulong sequence) => _events.ContainsKey(sequence);

    public bool Remove(ulong sequence)
    {
        if (!_events.Remove(sequence, out var e))
        {
            return false;
        }
        Bytes -= e.Size;
        return true;
    }

    /// <summary>The oldest <paramref name="max"/> events.</summary>
    public List<OutboxEvent> Oldest(int max)
    {
        var list = new List<OutboxEvent>(Math.Min(max, _events.Count));
        foreach (var e in _events.Values)
        {
            if (list.Count >= max)
            {
                break;
            }
            list.Add(e);
        }
        return list;
    }

    public List<OutboxEvent> Assign(IReadOnlyList<OutboxMessage> messages)
    {
        var list = new List<OutboxEvent>(messages.Count);
        var next = NextSequence;
        foreach (var m in messages)
        {
            ArgumentNullException.ThrowIfNull(m);
            ArgumentException.ThrowIfNullOrEmpty(m.MessageId);
            if (m.Payload.Length > OutboxEventCodec.MaxPayloadBytes)
            {
                throw new ArgumentException($"the event {m.MessageId} is {m.Payload.Length} bytes, more than the {OutboxEventCodec.MaxPayloadBytes} allowed");
            }
            list.Add(new OutboxEvent(next++, m.MessageId, m.TraceParent, m.Payload));
        }
        return list;
    }
}

using System.Diagnostics;
using System.Text.Json;
using NATS.Client.JetStream;

namespace Fim.Testing;

public sealed record StreamMessage(ulong Sequence, string Subject, string? MsgId, string? TraceParent, JsonElement Body)
{
    public string Path => Body.GetProperty("path").GetString()!;
    public string Kind => Body.GetProperty("kind").GetString()!;
    public string EventId => Body.GetProperty("eventId").GetString()!;
}

/// <summary>Reads every message of a JetStream stream, for tests that count what was stored.</summary>
public static class StreamContents
{
    public static async Task<List<StreamMessage>> ReadAllAsync(INatsJSContext js, string streamName, TimeSpan? timeout = null)
    {
        var stream = await js.GetStreamAsync(streamName);
        var list = new List<StreamMessage>();
        if (stream.Info.State.Messages == 0)
        {
            return list;
        }
        var last = stream.Info.State.LastSeq;
        var consumer = await js.CreateOrderedConsumerAsync(streamName);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(30)))
        {
            await foreach (var m in consumer.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 1000, Expires = TimeSpan.FromSeconds(2) }))
            {
                string? Header(string name) => m.Headers is { } h && h.TryGetValue(name, out var v) ? v.ToString() : null;
                var seq = m.Metadata!.Value.Sequence.Stream;
                list.Add(new StreamMessage(seq, m.Subject, Header("Nats-Msg-Id"), Header("traceparent"), JsonDocument.Parse(m.Data!).RootElement.Clone()));
                if (seq >= last)
                {
                    return list;
                }
            }
        }
        throw new TimeoutException($"read {list.Count} messages of {streamName} up to sequence {last} in time");
    }
}

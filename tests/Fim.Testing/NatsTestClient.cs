using System.Text;
using System.Text.Json;
using Fim.Contracts;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Fim.Testing;

/// <summary>What the tests do to NATS directly: publish events like an agent, put heartbeats, read streams back.</summary>
public sealed class NatsTestClient : IAsyncDisposable
{
    private static readonly NatsRawSerializer<byte[]> Raw = NatsRawSerializer<byte[]>.Default;

    private NatsTestClient(NatsConnection connection)
    {
        Connection = connection;
        Js = new NatsJSContext(connection);
    }

    public NatsConnection Connection { get; }
    public NatsJSContext Js { get; }

    public static async Task<NatsTestClient> ConnectAsync(string url, Func<NatsOpts, NatsOpts>? configure = null)
    {
        // A JetStream publish waits for the stream's ack; the client's 5 s default is too short on a saturated machine
        // (nats-server fsyncing under load), and a test should fail on a lost message, not on a slow ack. Likewise the
        // 2 s connect timeout: a clean-clone run failed a fixture on it while a fresh nats-server was still starting up.
        var opts = NatsOpts.Default with
        {
            Url = url,
            Name = "fim-test",
            RequestTimeout = TimeSpan.FromSeconds(30),
            ConnectTimeout = TimeSpan.FromSeconds(30),
        };
        var connection = new NatsConnection(configure is null ? opts : configure(opts));
        await connection.ConnectAsync();
        return new NatsTestClient(connection);
    }

    /// <summary>Creates FIM_EVENTS as the manager would, for tests that publish before a manager starts.</summary>
    public async Task EnsureEventsStreamAsync() =>
        await Js.CreateOrUpdateStreamAsync(new StreamConfig(Subjects.EventsStream, [Subjects.AllEvents])
        {
            Storage = StreamConfigStorage.File,
            DuplicateWindow = TimeSpan.FromMinutes(2),
            MaxAge = TimeSpan.FromDays(30),
            AllowDirect = true,
        });

    public Task<PubAckResponse> PublishEventAsync(FileEvent e, string? msgId = null, NatsHeaders? headers = null, string? subject = null) =>
        PublishRawAsync(subject ?? Subjects.Events(e.AgentId), ContractJson.ToUtf8(e), msgId ?? e.EventId, headers);

    public async Task<PubAckResponse> PublishRawAsync(string subject, byte[] payload, string? msgId = null, NatsHeaders? headers = null)
    {
        var ack = await Js.PublishAsync(subject, payload, Raw, new NatsJSPubOpts { MsgId = msgId }, headers);
        ack.EnsureSuccess();
        return ack;
    }

    public async Task PutHeartbeatAsync(string agentId, IReadOnlyDictionary<string, string>? labels = null, string version = "0.1.0")
    {
        var kv = new NatsKVContext(Js);
        var store = await kv.CreateOrUpdateStoreAsync(new NatsKVConfig(Subjects.AgentsBucket) { History = 1 });
        var heartbeat = ContractJson.ToUtf8(TestHeartbeats.Make(agentId, labels, hostname: agentId + ".node", version: version));
        await store.PutAsync(agentId, heartbeat, Raw);
    }

    /// <summary>Every message stored in a stream under a subject filter, oldest first.</summary>
    public async Task<IReadOnlyList<ReadMessage>> ReadAsync(string stream, string filter)
    {
        var result = new List<ReadMessage>();
        try
        {
            var info = await Js.GetStreamAsync(stream);
            if (info.Info.State.Messages == 0)
            {
                return result;
            }
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            return result;
        }
        // Not the ordered consumer: NATS.Net sends filter_subjects, which nats-server 2.9 ignores.
        var consumer = await Js.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig
        {
            Name = "test-read-" + Guid.NewGuid().ToString("N")[..8],
            FilterSubject = filter,
            AckPolicy = ConsumerConfigAckPolicy.None,
            InactiveThreshold = TimeSpan.FromSeconds(10),
            MemStorage = true,
        });
        try
        {
            while (true)
            {
                var got = 0;
                await foreach (var msg in consumer.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = 1000 }, Raw))
                {
                    got++;
                    result.Add(new ReadMessage(msg.Subject, msg.Data ?? [], msg.Headers, msg.Metadata?.Sequence.Stream ?? 0));
                }
                if (got == 0)
                {
                    return result;
                }
            }
        }
        finally
        {
            await Js.DeleteConsumerAsync(stream, consumer.Info.Name);
        }
    }

    public async Task<IReadOnlyList<Alert>> AlertsAsync(string agentId) =>
        [.. (await ReadAsync(Subjects.AlertsStream, Subjects.AlertsOf(agentId))).Select(m => m.As<Alert>())];

    public Task<IReadOnlyList<ReadMessage>> DeadLettersAsync(string reason) =>
        ReadAsync(Subjects.DeadLetterStream, Subjects.DeadLetter(reason));

    public async Task<ConsumerInfo> ManagersConsumerAsync() =>
        (await Js.GetConsumerAsync(Subjects.EventsStream, Subjects.ManagersConsumer)).Info;

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();
}

public sealed record ReadMessage(string Subject, byte[] Data, NatsHeaders? Headers, ulong Sequence)
{
    public T As<T>() => JsonSerializer.Deserialize<T>(Data, ContractJson.Default.Options)!;

    public string Text => Encoding.UTF8.GetString(Data);

    public string? Header(string name) => Headers is not null && Headers.TryGetLastValue(name, out var v) ? v : null;
}

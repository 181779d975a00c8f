using System.Text;
using System.Text.Json;
using Fim.Contracts;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fim.Hostile.Tests.Support;

/// <summary>What the hostile tests do on NATS directly: publish events as a (hostile) agent would, read streams back.</summary>
public sealed class HostileNats : IAsyncDisposable
{
    private static readonly NatsRawSerializer<byte[]> Raw = NatsRawSerializer<byte[]>.Default;
    private static long _sequence;

    private HostileNats(NatsConnection connection)
    {
        Connection = connection;
        Js = new NatsJSContext(connection);
    }

    public NatsConnection Connection { get; }
    public NatsJSContext Js { get; }

    public static async Task<HostileNats> ConnectAsync(string url)
    {
        var connection = new NatsConnection(NatsOpts.Default with { Url = url, Name = "fim-hostile-test" });
        await connection.ConnectAsync();
        return new HostileNats(connection);
    }

    public static string NewAgentId(string prefix = "hostile") => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>A valid event as the agent writes it; tests then make it hostile.</summary>
    public static FileEvent Event(string agentId, string path = "/etc/passwd") => new()
    {
        EventId = $"{agentId}:boot1:{Interlocked.Increment(ref _sequence)}",
        AgentId = agentId,
        Host = agentId + ".node",
        Policy = "default/etc",
        Path = path,
        Kind = "modified",
        Changed = ["size", "sha256"],
        Before = new FileState { Type = "regular", Size = 10, Mode = "0644", Sha256 = new string('a', 64) },
        After = new FileState { Type = "regular", Size = 12, Mode = "0644", Sha256 = new string('b', 64) },
        Source = "realtime",
        ObservedAt = DateTimeOffset.UtcNow,
    };

    public static byte[] Json(FileEvent e) => ContractJson.ToUtf8(e);

    /// <summary>Publishes raw bytes on the agent's subject (a fresh message id) and returns the stream sequence.</summary>
    public async Task<ulong> PublishAsync(string agentId, byte[] payload)
    {
        var ack = await Js.PublishAsync(Subjects.Events(agentId), payload, Raw, new NatsJSPubOpts { MsgId = Guid.NewGuid().ToString("N") });
        ack.EnsureSuccess();
        return ack.Seq;
    }

    /// <summary>Every message stored in <paramref name="stream"/> under <paramref name="filter"/>, oldest first.</summary>
    public async Task<IReadOnlyList<Stored>> ReadAsync(string stream, string filter)
    {
        var result = new List<Stored>();
        try
        {
            if ((await Js.GetStreamAsync(stream)).Info.State.Messages == 0)
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
            Name = "hostile-read-" + Guid.NewGuid().ToString("N")[..8],
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
                    result.Add(new Stored(msg.Subject, msg.Data ?? [], msg.Headers));
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

    /// <summary>The dead letters of one original FIM_EVENTS sequence, whatever their reason.</summary>
    public async Task<IReadOnlyList<Stored>> DeadLettersOfAsync(ulong sequence) =>
        [.. (await ReadAsync(Subjects.DeadLetterStream, Subjects.AllDeadLetters)).Where(m => m.Header(DeadLetter.SequenceHeader) == sequence.ToString())];

    public async Task<IReadOnlyList<Alert>> AlertsAsync(string agentId) =>
        [.. (await ReadAsync(Subjects.AlertsStream, Subjects.AlertsOf(agentId))).Select(m => JsonSerializer.Deserialize(m.Data, ContractJson.Default.Alert)!)];

    public async Task<ConsumerInfo> ManagersConsumerAsync() => (await Js.GetConsumerAsync(Subjects.EventsStream, Subjects.ManagersConsumer)).Info;

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();
}

public sealed record Stored(string Subject, byte[] Data, NatsHeaders? Headers)
{
    public string Text => Encoding.UTF8.GetString(Data);

    public string? Header(string name) => Headers is not null && Headers.TryGetLastValue(name, out var v) ? v : null;
}

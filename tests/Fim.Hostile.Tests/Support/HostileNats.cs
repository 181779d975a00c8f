using System.Text;
using System.Text.Json;
using Fim.Contracts;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fim.Hostile.Tests.Support;

/// <summary>What the hostile tests do on NATS directly: publish events as a (hostile) agent would, read streams back.</summary>
public sealed class HostileNats : IAsyncDisposable
{
    private static readonly NatsRawSerializer<byte[]> Raw = NatsRawSerializer<byte[]>.Default;
    private static long _sequence;

    private readonly NatsTestClient _reader;

    private HostileNats(NatsConnection connection, NatsTestClient reader)
    {
        Connection = connection;
        Js = new NatsJSContext(connection);
        _reader = reader;
    }

    public NatsConnection Connection { get; }
    public NatsJSContext Js { get; }

    public static async Task<HostileNats> ConnectAsync(string url)
    {
        var connection = new NatsConnection(NatsOpts.Default with { Url = url, Name = "fim-hostile-test" });
        await connection.ConnectAsync();
        return new HostileNats(connection, await NatsTestClient.ConnectAsync(url));
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
    public Task<IReadOnlyList<ReadMessage>> ReadAsync(string stream, string filter) => _reader.ReadAsync(stream, filter);

    /// <summary>The dead letters of one original FIM_EVENTS sequence, whatever their reason.</summary>
    public async Task<IReadOnlyList<ReadMessage>> DeadLettersOfAsync(ulong sequence) =>
        [.. (await ReadAsync(Subjects.DeadLetterStream, Subjects.AllDeadLetters)).Where(m => m.Header(DeadLetter.SequenceHeader) == sequence.ToString())];

    public async Task<IReadOnlyList<Alert>> AlertsAsync(string agentId) =>
        [.. (await ReadAsync(Subjects.AlertsStream, Subjects.AlertsOf(agentId))).Select(m => JsonSerializer.Deserialize(m.Data, ContractJson.Default.Alert)!)];

    public async Task<ConsumerInfo> ManagersConsumerAsync() => (await Js.GetConsumerAsync(Subjects.EventsStream, Subjects.ManagersConsumer)).Info;

    public async ValueTask DisposeAsync()
    {
        await _reader.DisposeAsync();
        await Connection.DisposeAsync();
    }
}


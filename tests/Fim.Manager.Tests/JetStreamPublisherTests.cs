using System.Text;
using Fim.Manager.Nats;
using Fim.Manager.Tests.Support;
using Fim.Testing;
using NATS.Client.JetStream.Models;

namespace Fim.Manager.Tests;

/// <summary>The manager's asynchronous publisher against a real server: each publish hears its own answer, exactly once.</summary>
public sealed class JetStreamPublisherTests
{
    /// <summary>Generous: thousands of answers on a saturated machine must not time out.</summary>
    private static readonly TimeSpan Timeout = Eventually.DefaultTimeout;

    /// <summary>The timeout under test, where nothing will ever answer.</summary>
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Thousands_of_concurrent_publishes_each_hear_their_own_answer_and_a_repeated_id_is_a_duplicate()
    {
        await using var server = await NatsServer.StartAsync();
        await using var client = await NatsTestClient.ConnectAsync(server.Url);
        await client.Js.CreateStreamAsync(new StreamConfig("PUBTEST", ["pubtest.>"]) { DuplicateWindow = TimeSpan.FromMinutes(2) });
        await using var publisher = await JetStreamPublisher.StartAsync(client.Connection, Timeout, CancellationToken.None);

        const int Count = 5_000;
        var answers = new List<Task<PublishAck>>();
        for (var i = 0; i < Count; i++)
        {
            answers.Add(await publisher.PublishAsync($"pubtest.{i % 7}", Encoding.UTF8.GetBytes($"m{i}"), $"id-{i}", null, CancellationToken.None));
        }
        var acks = await Eventually.WithinAsync(Task.WhenAll(answers), "every publish answered");
        var again = await await publisher.PublishAsync("pubtest.0", "m0"u8.ToArray(), "id-0", null, CancellationToken.None);

        Assert.All(acks, a => Assert.True(a.Stored, a.Error));
        Assert.Equal(Enumerable.Range(1, Count).Select(i => (ulong)i), acks.Select(a => a.Sequence).Order());
        Assert.DoesNotContain(acks, a => a.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(0, publisher.InFlight);
        Assert.Equal(Count, (long)(await client.Js.GetStreamAsync("PUBTEST")).Info.State.Messages);
    }

    [Fact]
    public async Task A_subject_no_stream_captures_is_refused_at_once_as_no_responders()
    {
        await using var server = await NatsServer.StartAsync();
        await using var client = await NatsTestClient.ConnectAsync(server.Url);
        await using var publisher = await JetStreamPublisher.StartAsync(client.Connection, Timeout, CancellationToken.None);

        var ack = await await publisher.PublishAsync("nobody.listens", "x"u8.ToArray(), "id", null, CancellationToken.None);

        Assert.False(ack.Stored);
        Assert.Contains("no responders", ack.Error);
    }

    [Fact]
    public async Task A_publish_the_server_never_answers_fails_after_the_timeout()
    {
        await using var server = await NatsServer.StartAsync();
        await using var client = await NatsTestClient.ConnectAsync(server.Url);
        // Something hears the subject (so no "no responders") but nothing answers, as when a stream leader is lost mid-request.
        await using var silent = await client.Connection.SubscribeCoreAsync<byte[]>("silent.>");
        var publisher = await JetStreamPublisher.StartAsync(client.Connection, ShortTimeout, CancellationToken.None);

        var unanswered = await publisher.PublishAsync("silent.a", "x"u8.ToArray(), "id-a", null, CancellationToken.None);
        var ack = await Eventually.WithinAsync(unanswered, "the unanswered publish to fail");
        await publisher.DisposeAsync();

        Assert.False(ack.Stored);
        Assert.Contains("no answer from JetStream within", ack.Error);
        Assert.Equal(0, publisher.InFlight);
    }
}

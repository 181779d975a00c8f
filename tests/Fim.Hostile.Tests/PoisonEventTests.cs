using Fim.Contracts;
using Fim.Hostile.Tests.Support;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fim.Hostile.Tests;

/// <summary>
/// Issue 11, case 2: an event the managers cannot process must end as a dead letter with a reason, a log line and a
/// count, never be nak'd until JetStream's max_deliver drops it silently.
/// </summary>
public sealed class PoisonEventTests
{
    [Fact]
    public async Task An_event_with_a_100000_character_event_id_is_dead_lettered_at_once()
    {
        await using var server = await NatsServer.StartAsync();
        await using var manager = await ManagerProcess.StartReadyAsync(server.Url);
        await using var nats = await HostileNats.ConnectAsync(server.Url);
        var agent = HostileNats.NewAgentId();
        var e = HostileNats.Event(agent);
        e.EventId = new string('x', 100_000);
        var payload = HostileNats.Json(e);

        var seq = await nats.PublishAsync(agent, payload);

        var copy = await AwaitDeadLetterAsync(nats, seq, DeadLetter.InvalidId);
        Assert.Contains("eventId: 100000 characters, more than the 256 allowed", copy.Header(DeadLetter.DetailHeader));
        Assert.Equal("1", copy.Header(DeadLetter.DeliveredHeader)); // at once, not after ten naks
        Assert.Equal(payload, copy.Data);
        await AssertSettledLoggedAndCountedAsync(nats, manager, DeadLetter.InvalidId);
        Assert.Empty(await nats.AlertsAsync(agent));
    }

    [Fact]
    public async Task An_oversized_event_is_dead_lettered_at_once()
    {
        await using var server = await NatsServer.StartAsync();
        await using var manager = await ManagerProcess.StartReadyAsync(server.Url);
        await using var nats = await HostileNats.ConnectAsync(server.Url);
        var agent = HostileNats.NewAgentId();
        var e = HostileNats.Event(agent);
        e.Diff = new string('d', 300 * 1024);

        var seq = await nats.PublishAsync(agent, HostileNats.Json(e));

        var copy = await AwaitDeadLetterAsync(nats, seq, DeadLetter.Oversized);
        Assert.Contains("more than the 262144 allowed", copy.Header(DeadLetter.DetailHeader));
        Assert.Equal("1", copy.Header(DeadLetter.DeliveredHeader));
        await AssertSettledLoggedAndCountedAsync(nats, manager, DeadLetter.Oversized);
    }

    [Fact]
    public async Task An_event_whose_alert_publish_always_fails_is_dead_lettered_on_its_last_delivery()
    {
        await using var server = await NatsServer.StartAsync();
        await using var nats = await HostileNats.ConnectAsync(server.Url);
        // FIM_ALERTS as an operator might have limited it: every alert of a long path is refused, on every delivery.
        await nats.Js.CreateStreamAsync(new StreamConfig(Subjects.AlertsStream, [Subjects.AllAlerts])
        {
            Storage = StreamConfigStorage.File,
            DuplicateWindow = TimeSpan.FromMinutes(2),
            MaxAge = TimeSpan.FromDays(400),
            MaxMsgSize = 2048,
            AllowDirect = true,
        });
        await using var manager = await ManagerProcess.StartReadyAsync(server.Url, new Dictionary<string, string> { ["Fim__Pipeline__MaxDeliver"] = "3" });
        var agent = HostileNats.NewAgentId();
        var e = HostileNats.Event(agent, "/srv/" + new string('p', 3000));

        var seq = await nats.PublishAsync(agent, HostileNats.Json(e));

        var copy = await AwaitDeadLetterAsync(nats, seq, DeadLetter.PublishFailed);
        Assert.Equal("3", copy.Header(DeadLetter.DeliveredHeader));
        Assert.Contains("alert publish failed on delivery 3 of 3", copy.Header(DeadLetter.DetailHeader));
        Assert.Contains("maximum", copy.Header(DeadLetter.DetailHeader)); // the server's reason: message size exceeds maximum allowed
        Assert.Equal(HostileNats.Json(e), copy.Data);
        await AssertSettledLoggedAndCountedAsync(nats, manager, DeadLetter.PublishFailed);
        Assert.True(await manager.MetricAsync("fim_event_transient_failures_total") >= 2, "the first deliveries were not retried");
    }

    [Fact]
    public async Task An_event_redelivered_past_the_limit_without_a_manager_settling_it_is_dead_lettered_from_the_advisory()
    {
        await using var server = await NatsServer.StartAsync();
        await using var nats = await HostileNats.ConnectAsync(server.Url);
        var settings = new Dictionary<string, string> { ["Fim__Pipeline__MaxDeliver"] = "2" };
        // A first manager sets up the streams and the consumer, then leaves.
        await using (var first = await ManagerProcess.StartReadyAsync(server.Url, settings))
        {
            await first.StopAsync();
        }
        var agent = HostileNats.NewAgentId();
        var payload = HostileNats.Json(HostileNats.Event(agent));
        var seq = await nats.PublishAsync(agent, payload);

        // This test plays a manager that takes the event and dies with it, delivery after delivery.
        var consumer = await nats.Js.GetConsumerAsync(Subjects.EventsStream, Subjects.ManagersConsumer);
        var firstDelivery = await FetchOneAsync(consumer);
        await firstDelivery.NakAsync();
        var lastDelivery = await FetchOneAsync(consumer);
        Assert.Equal(2ul, lastDelivery.Metadata!.Value.NumDelivered);
        await using var manager = await ManagerProcess.StartReadyAsync(server.Url, settings);
        // The last delivery fails too: the server will not deliver it again.
        await lastDelivery.NakAsync();

        var copy = await AwaitDeadLetterAsync(nats, seq, DeadLetter.MaxDeliveries);
        Assert.Equal(payload, copy.Data);
        Assert.Equal(Subjects.Events(agent), copy.Header(DeadLetter.SubjectHeader));
        Assert.Equal("2", copy.Header(DeadLetter.DeliveredHeader));
        Assert.Contains("after 2 deliveries", copy.Header(DeadLetter.DetailHeader));
        await Eventually.TrueAsync(() => manager.LogLines(DeadLetter.MaxDeliveries).Count > 0, () => "no log line for the dropped event\n" + manager.Process.Output);
        Assert.Equal(1, await manager.MetricAsync("fim_dead_letters_total", $"reason=\"{DeadLetter.MaxDeliveries}\""));
        Assert.Empty(await nats.AlertsAsync(agent));
    }

    private static async Task<INatsJSMsg<byte[]>> FetchOneAsync(INatsJSConsumer consumer)
    {
        return await Eventually.WithinAsync(Next(), "a delivery of the event");

        async Task<INatsJSMsg<byte[]>> Next()
        {
            while (true)
            {
                await foreach (var msg in consumer.FetchAsync(new NatsJSFetchOpts { MaxMsgs = 1, Expires = TimeSpan.FromSeconds(2) }, NatsRawSerializer<byte[]>.Default))
                {
                    return msg;
                }
            }
        }
    }

    internal static async Task<ReadMessage> AwaitDeadLetterAsync(HostileNats nats, ulong seq, string reason)
    {
        var copies = await Eventually.CountAsync(() => nats.DeadLettersOfAsync(seq), 1, $"a dead letter ({reason}) of FIM_EVENTS seq {seq}", TimeSpan.FromSeconds(60));
        var copy = Assert.Single(copies);
        Assert.Equal(Subjects.DeadLetter(reason), copy.Subject);
        Assert.Equal(reason, copy.Header(DeadLetter.ReasonHeader));
        return copy;
    }

    internal static async Task AssertSettledLoggedAndCountedAsync(HostileNats nats, ManagerProcess manager, string reason)
    {
        await Eventually.TrueAsync(async () => (await nats.ManagersConsumerAsync()) is { NumAckPending: 0, NumPending: 0 }, "the event settled (terminated)");
        await Eventually.TrueAsync(() => manager.LogLines(reason).Count > 0, () => $"no log line naming {reason}\n{manager.Process.Output}");
        await Eventually.TrueAsync(async () => await manager.MetricAsync("fim_dead_letters_total", $"reason=\"{reason}\"") >= 1, $"fim_dead_letters_total{{reason=\"{reason}\"}} counted");
    }
}

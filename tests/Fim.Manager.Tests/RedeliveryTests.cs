using Fim.Contracts;
using Fim.Manager.Tests.Support;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.Manager.Tests;

public sealed class RedeliveryTests
{
    [Fact]
    public async Task Manager_stopped_mid_batch_without_acking_leaves_its_events_to_another_one_and_no_alert_is_lost_or_doubled()
    {
        const int Count = 20_000;
        await using var server = await NatsServer.StartAsync();
        await using var client = await NatsTestClient.ConnectAsync(server.Url);
        await client.EnsureEventsStreamAsync();
        var agent = TestEvents.NewAgentId();
        await PublishManyAsync(client, agent, Count);

        // A: short ack wait, and no draining on stop, so what it holds at the stop is simply never acked (like a crash).
        var settings = new Dictionary<string, string?>
        {
            ["Fim:Pipeline:AckWait"] = "00:00:02",
            ["Fim:Pipeline:DrainTimeout"] = "00:00:00",
            ["Fim:Pipeline:BatchSize"] = "500",
        };
        var a = await TestManager.StartAsync(server.Url, settings);
        await Eventually.TrueAsync(() => a.Metrics.EventsConsumed.Value >= 500, "A settled some events");
        await a.StopAsync();
        var settledByA = a.Metrics.EventsConsumed.Value;
        await a.DisposeAsync();
        var afterA = await client.ManagersConsumerAsync();
        Assert.True(settledByA < Count, $"A settled everything ({settledByA}) before it was stopped; the test proves nothing");
        Assert.True(afterA.NumAckPending > 0, "A left nothing unacked");

        await using var b = await TestManager.StartAsync(server.Url, settings);
        await Eventually.TrueAsync(async () => (await client.ManagersConsumerAsync()) is { NumPending: 0, NumAckPending: 0 },
            "B settled the rest", TimeSpan.FromSeconds(60));

        var alerts = await client.ReadAsync(Subjects.AlertsStream, Subjects.AlertsOf(agent));
        var ids = alerts.Select(m => m.As<Alert>().EventId).ToList();
        Assert.Equal(Count, ids.Count);
        Assert.Equal(Count, ids.Distinct().Count());
        Assert.True(b.Metrics.Redeliveries.Value > 0, "B saw no redelivery");
        // Every event was settled by A or B (B redid what A held unacked; a redo of an already stored alert is a dedupe).
        Assert.True(settledByA + b.Metrics.EventsConsumed.Value >= Count);
    }

    internal static async Task PublishManyAsync(NatsTestClient client, string agent, int count)
    {
        var window = new List<NatsJSPublishConcurrentFuture>(1000);
        for (var i = 0; i < count; i++)
        {
            var e = TestEvents.Event(agent, $"/srv/data/file-{i}", "modified");
            window.Add(await client.Js.PublishConcurrentAsync(Subjects.Events(agent), ContractJson.ToUtf8(e), NatsRawSerializer<byte[]>.Default,
                new NatsJSPubOpts { MsgId = e.EventId }));
            if (window.Count == 1000 || i == count - 1)
            {
                foreach (var f in window)
                {
                    (await f.GetResponseAsync()).EnsureSuccess();
                    await f.DisposeAsync();
                }
                window.Clear();
            }
        }
    }
}

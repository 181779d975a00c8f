using System.Net;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Manager.Tests.Support;
using Fim.Nats;
using Fim.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.JetStream.Models;

namespace Fim.Manager.Tests;

public sealed class TopologyAndReadinessTests
{
    [Fact]
    public async Task Two_managers_starting_at_once_create_the_streams_and_one_shared_consumer()
    {
        await using var server = await NatsServer.StartAsync();
        await using var client = await NatsTestClient.ConnectAsync(server.Url);

        var starting = new[] { TestManager.StartAsync(server.Url), TestManager.StartAsync(server.Url) };
        var managers = await Task.WhenAll(starting);
        try
        {
            var events = (await client.Js.GetStreamAsync(Subjects.EventsStream)).Info.Config;
            Assert.Equal([Subjects.AllEvents], events.Subjects);
            Assert.Equal(StreamConfigStorage.File, events.Storage);
            Assert.True(events.DuplicateWindow >= TimeSpan.FromMinutes(2));
            var alerts = (await client.Js.GetStreamAsync(Subjects.AlertsStream)).Info.Config;
            Assert.Equal([Subjects.AllAlerts], alerts.Subjects);
            Assert.Equal(TimeSpan.FromMinutes(2), alerts.DuplicateWindow);
            var dead = (await client.Js.GetStreamAsync(Subjects.DeadLetterStream)).Info.Config;
            Assert.Equal([Subjects.AllDeadLetters], dead.Subjects);

            var consumers = new List<string>();
            await foreach (var name in client.Js.ListConsumerNamesAsync(Subjects.EventsStream))
            {
                consumers.Add(name);
            }
            Assert.Equal([Subjects.ManagersConsumer], consumers);
            var consumer = await client.ManagersConsumerAsync();
            Assert.Equal(ConsumerConfigAckPolicy.Explicit, consumer.Config.AckPolicy);
            Assert.Equal(TimeSpan.FromSeconds(5), consumer.Config.AckWait);
            Assert.Equal(10, consumer.Config.MaxDeliver);

            // And again, many times at once: nothing fails, nothing changes.
            var topology = new StreamTopology(Microsoft.Extensions.Options.Options.Create(new PipelineOptions { AckWait = TimeSpan.FromSeconds(5) }),
                NullLogger<StreamTopology>.Instance);
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => topology.EnsureAsync(client.Js, CancellationToken.None)));
            Assert.Equal(consumer.Created, (await client.ManagersConsumerAsync()).Created);

            // Work-queue semantics: events spread over both managers, each alerted once.
            var agent = TestEvents.NewAgentId();
            for (var i = 0; i < 200; i++)
            {
                await client.PublishEventAsync(TestEvents.Event(agent, $"/etc/f{i}", "added"));
            }
            await Eventually.CountAsync(() => client.AlertsAsync(agent), 200, "200 alerts");
            await Eventually.TrueAsync(() => managers.Sum(m => m.Metrics.EventsConsumed.Value) >= 200, "both managers' counts add up to 200");
            var stored = await client.AlertsAsync(agent);
            Assert.Equal(200, stored.Count);
            Assert.Equal(200, stored.Select(a => a.AlertId).Distinct().Count());
        }
        finally
        {
            foreach (var m in managers)
            {
                await m.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_mirror_watch_of_an_empty_bucket_says_loaded_and_goes_on_to_hear_the_first_entry()
    {
        await using var server = await NatsServer.StartAsync();
        await using var client = await NatsTestClient.ConnectAsync(server.Url);
        var kv = new NATS.Client.KeyValueStore.NatsKVContext(client.Js);
        var store = await FimBuckets.OpenOrCreateAsync(kv, Subjects.AgentsBucket, 1, CancellationToken.None);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await using var watch = store.WatchAsync<string>(opts: FimBuckets.MirrorWatch(() => loaded.TrySetResult()), cancellationToken: stop.Token).GetAsyncEnumerator();
        var next = watch.MoveNextAsync().AsTask();
        await loaded.Task.WaitAsync(stop.Token);
        await store.PutAsync("agent-1", "first");

        Assert.True(await next, "the watch ended at the end of the (empty) initial data");
        Assert.Equal(("agent-1", "first"), (watch.Current.Key, watch.Current.Value));
    }

    [Fact]
    public async Task Readiness_is_false_until_nats_is_up_and_the_consumer_bound_and_follows_a_nats_restart()
    {
        var port = NatsServer.FreePort();
        await using var manager = await TestManager.StartAsync($"nats://127.0.0.1:{port}", waitReady: false);

        Assert.Equal(HttpStatusCode.OK, (await manager.Http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await manager.Http.GetAsync("/readyz")).StatusCode);
        Assert.False(manager.Readiness.IsReady);

        await using var server = await NatsServer.StartAsync(port: port);
        await Eventually.TrueAsync(async () => (await manager.Http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, "ready after NATS starts");
        await using (var client = await NatsTestClient.ConnectAsync(server.Url))
        {
            await client.ManagersConsumerAsync();
        }

        await server.StopAsync();
        await Eventually.TrueAsync(async () => (await manager.Http.GetAsync("/readyz")).StatusCode == HttpStatusCode.ServiceUnavailable,
            "not ready while NATS is down");
        Assert.Equal(HttpStatusCode.OK, (await manager.Http.GetAsync("/healthz")).StatusCode);

        await server.StartAsync();
        await Eventually.TrueAsync(async () => (await manager.Http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, "ready again");
        await using var again = await NatsTestClient.ConnectAsync(server.Url);
        var agent = TestEvents.NewAgentId();
        await again.PublishEventAsync(TestEvents.Event(agent));
        Assert.Single(await Eventually.CountAsync(() => again.AlertsAsync(agent), 1, "alert after the restart"));
    }
}

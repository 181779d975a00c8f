using System.Diagnostics;
using System.Globalization;
using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Controllers.Pool;
using Fim.Operator.Tests.Support;
using Fim.Testing;
using k8s;
using k8s.Models;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Xunit.Abstractions;

namespace Fim.Operator.Tests;

/// <summary>
/// Issue 18, chaos mode (a FimManagerPool's spec.chaos.podKillInterval). The operator runs against the API double; the
/// pool's pods are real manager processes (<see cref="ManagerPods"/> stands in for the ReplicaSet controller and the
/// kubelet: a pod the operator deletes has its process stopped, SIGTERM and SIGKILL in turn, and a new one started).
/// Acceptance 6: while chaos runs on three managers and events flow, every event ends as exactly one alert. The CI
/// count is FIM_CHAOS_EVENTS (default 6,000, and at least 4 pod deletions while publishing); bench/chaos.sh runs it with
/// 100,000.
/// </summary>
[Collection(Serial.Name)]
public sealed class ChaosTests(ITestOutputHelper output)
{
    private static FimManagerPool Pool(string? interval, int replicas = 3)
    {
        var pool = Samples.Pool();
        pool.Spec.Replicas = new PoolReplicas { Min = replicas, Max = replicas };
        pool.Spec.Autoscaling = new PoolAutoscaling { Provider = PoolAutoscaling.NoProvider };
        pool.Spec.Chaos = interval is null ? null : new PoolChaos { PodKillInterval = interval };
        return pool;
    }

    [Fact]
    public async Task Chaos_is_off_by_default_refuses_below_two_ready_pods_and_otherwise_deletes_one_ready_pod()
    {
        await using var h = await OperatorHarness.StartAsync();
        await using var kv = await NatsKv.StartAsync();
        var runner = h.StartOperator(kv.PolicyStore, kv.Agents, loggers: new TestLoggers(output));
        await h.Pools.CreateAsync(Pool(interval: null));
        await Eventually.TrueAsync(() => runner.Chaos is not null && runner.Pools?.Running == true, "the operator leads");
        var pods = new List<string>();
        foreach (var ready in new[] { true, false })
        {
            var name = $"managers-{(ready ? "ready" : "starting")}";
            await h.Client.CoreV1.CreateNamespacedPodAsync(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = name, Labels = PoolLabels.For("managers") },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "manager", Image = "fim-manager:test" }] },
            }, "default");
            await SetReadyAsync(h.Client, name, ready);
            pods.Add(name);
        }

        // Off: no spec.chaos, no deletion however much time passes (the monkey's clock is driven here, not waited for).
        var monkey = runner.Chaos!;
        var t = DateTimeOffset.UtcNow;
        for (var i = 1; i <= 5; i++)
        {
            await monkey.TickAsync(t.AddHours(i), CancellationToken.None);
        }

        Assert.Equal((0, 0), (monkey.Deleted, monkey.Refusals));

        // On, with one ready pod (and one not ready): refused, with a Warning Event, and nothing deleted.
        await h.Pools.UpdateAsync<FimManagerPool>("managers", p => p.Spec.Chaos = new PoolChaos { PodKillInterval = "1h" });
        await Eventually.TrueAsync(() => runner.Pools!.Informer.Items.Single().Spec.Chaos is not null, "the pool's chaos setting cached");
        for (var i = 1; i <= 4; i++)
        {
            await monkey.TickAsync(t.AddHours(3 * i), CancellationToken.None); // beyond 1.5 x the interval: always due
        }

        Assert.True(monkey.Refusals >= 2, $"refusals {monkey.Refusals}");
        Assert.Equal(0, monkey.Deleted);
        Assert.Equal(2, (await h.Client.CoreV1.ListNamespacedPodAsync("default")).Items.Count);
        var refused = (await h.Client.CoreV1.ListNamespacedEventAsync("default")).Items.Where(e => e.Reason == "ChaosRefused").ToList();
        var warning = Assert.Single(refused); // once per refusal streak, not per tick
        Assert.Equal("Warning", warning.Type);
        Assert.Contains("1 ready manager pod(s), at least 2 needed", warning.Message);

        // Two ready: one of them goes, never the unready one... and with only one ready left, chaos stops again.
        await SetReadyAsync(h.Client, "managers-starting", true);

        // Without the chart's operator.rbac.chaos the API server forbids the deletion: refused, saying what to grant.
        h.Server.FailNext("delete", "pods", 403);
        await monkey.TickAsync(t.AddHours(17), CancellationToken.None);
        Assert.Equal(0, monkey.Deleted);
        Assert.Contains((await h.Client.CoreV1.ListNamespacedEventAsync("default")).Items,
            e => e.Reason == "ChaosRefused" && e.Message.Contains("operator.rbac.chaos=true", StringComparison.Ordinal));

        await monkey.TickAsync(t.AddHours(20), CancellationToken.None);
        Assert.Equal(1, monkey.Deleted);
        var left = Assert.Single((await h.Client.CoreV1.ListNamespacedPodAsync("default")).Items);
        await monkey.TickAsync(t.AddHours(23), CancellationToken.None);
        Assert.Equal(1, monkey.Deleted);
        Assert.NotNull(await h.Client.CoreV1.ReadNamespacedPodAsync(left.Metadata.Name, "default"));
        Assert.Contains((await h.Client.CoreV1.ListNamespacedEventAsync("default")).Items, e => e.Reason == "ChaosPodDeleted" && e.Message.Contains("(2 were ready)"));

        // A bad interval is refused by the CRD schema, and one the schema lets through but the operator cannot use by InvalidSpec.
        var bad = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() =>
            h.Pools.UpdateAsync<FimManagerPool>("managers", p => p.Spec.Chaos = new PoolChaos { PodKillInterval = "soon" }));
        Assert.Contains("spec.chaos.podKillInterval", bad.Response.Content);
        await h.Pools.UpdateAsync<FimManagerPool>("managers", p => p.Spec.Chaos = new PoolChaos { PodKillInterval = "0s" });
        await Eventually.TrueAsync(async () => (await h.Pools.GetAsync<FimManagerPool>("managers"))?.Status?.Conditions?
            .Any(c => c.Type == "Degraded" && c.Reason == "InvalidSpec" && c.Message!.Contains("chaos.podKillInterval: must be at least 1s")) == true,
            "InvalidSpec naming chaos.podKillInterval");
    }

    [Fact]
    public async Task With_chaos_on_a_pool_of_three_managers_every_event_ends_as_exactly_one_alert()
    {
        var events = int.Parse(Environment.GetEnvironmentVariable("FIM_CHAOS_EVENTS") ?? "6000", CultureInfo.InvariantCulture);
        var interval = Environment.GetEnvironmentVariable("FIM_CHAOS_INTERVAL") ?? "2s";
        const int MinDeletions = 4;
        var root = Directory.CreateTempSubdirectory("fim-chaos-").FullName;
        await using var h = await OperatorHarness.StartAsync();
        await using var kv = await NatsKv.StartAsync();
        using var managers = new ManagerProcesses(kv.Server.Url, root, new Dictionary<string, string>
        {
            // A killed manager's unacked events come back after this (default 30 s).
            ["Fim__Pipeline__AckWait"] = "00:00:03",
            ["Fim__Store__Indexer"] = "false",
        });
        var runner = h.StartOperator(kv.PolicyStore, kv.Agents, loggers: new TestLoggers(output, Microsoft.Extensions.Logging.LogLevel.Warning));
        await using var pods = new ManagerPods(h.Client, "default", "managers", managers);
        await pods.StartAsync(3);
        await Eventually.TrueAsync(async () => (await h.Client.CoreV1.ListNamespacedPodAsync("default")).Items
            .Count(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true) == 3, "three ready managers", ManagerProcesses.ReadyTimeout);
        await using var nats = await NatsTestClient.ConnectAsync(kv.Server.Url);
        await h.Pools.CreateAsync(Pool(interval));
        await Eventually.TrueAsync(() => runner.Chaos is not null, "the operator leads");

        // Publish as an agent would (message id per event, retried until acknowledged), paced at FIM_CHAOS_RATE events a
        // second so the flow spans the deletions, until both enough events are out and chaos has deleted enough pods.
        var rate = int.Parse(Environment.GetEnvironmentVariable("FIM_CHAOS_RATE") ?? "1000", CultureInfo.InvariantCulture);
        var clock = Stopwatch.StartNew();
        var published = 0;
        var deletionsWhilePublishing = 0;
        while (published < events || deletionsWhilePublishing < MinDeletions)
        {
            if (published >= rate * clock.Elapsed.TotalSeconds)
            {
                await Task.Delay(20);
                continue;
            }

            var batch = Enumerable.Range(published, 100).Select(i => PublishAsync(nats.Js, i)).ToList();
            await Task.WhenAll(batch);
            published += batch.Count;
            deletionsWhilePublishing = (int)runner.Chaos!.Deleted;
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(5), $"chaos deleted only {deletionsWhilePublishing} pods in {clock.Elapsed} while {published} events were published");
        }

        output.WriteLine($"published {published} events in {clock.Elapsed.TotalSeconds:0.0} s; {deletionsWhilePublishing} pods deleted meanwhile");

        // Every event alerted: wait for the count, then check one alert per event by id, none twice, none dead-lettered.
        long alertCount = 0;
        await Eventually.TrueAsync(async () => (alertCount = (long)(await nats.Js.GetStreamAsync(Subjects.AlertsStream)).Info.State.Messages) >= published,
            () => $"alerts {alertCount} of {published}", TimeSpan.FromMinutes(5));
        var settled = clock.Elapsed;
        var stored = await StreamContents.ReadAllAsync(nats.Js, Subjects.EventsStream, TimeSpan.FromMinutes(2));
        var alerts = await StreamContents.ReadAllAsync(nats.Js, Subjects.AlertsStream, TimeSpan.FromMinutes(2));
        Assert.Equal(published, stored.Count);
        var byEvent = alerts.GroupBy(a => a.EventId).ToList();
        Assert.Equal(published, alerts.Count);
        Assert.All(byEvent, g => Assert.Single(g));
        Assert.Equal(stored.Select(e => e.EventId).Order(StringComparer.Ordinal), byEvent.Select(g => g.Key).Order(StringComparer.Ordinal));
        var deadLetters = (long)(await nats.Js.GetStreamAsync(Subjects.DeadLetterStream)).Info.State.Messages;
        Assert.Equal(0L, deadLetters);
        output.WriteLine($"{published} events, {alerts.Count} alerts, every event once, 0 dead letters; all alerted {settled.TotalSeconds:0.0} s after the first publish; " +
            $"{runner.Chaos!.Deleted} pods deleted in all ({pods.Stopped} managers stopped), {runner.Chaos.Refusals} deletions refused (< 2 ready)");
        Assert.True(pods.Stopped >= MinDeletions);
        await pods.DisposeAsync();
        managers.Dispose();
        Directory.Delete(root, recursive: true);
    }

    private static async Task PublishAsync(NatsJSContext js, int i)
    {
        const string agent = "chaos-agent";
        var e = new FileEvent
        {
            EventId = $"{agent}:boot-1:{i}",
            AgentId = agent,
            Host = agent,
            Path = $"/etc/chaos/file-{i}",
            Kind = "modified",
            Source = "realtime",
            ObservedAt = DateTimeOffset.UtcNow,
        };
        var body = ContractJson.ToUtf8(e);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var ack = await js.PublishAsync(Subjects.Events(agent), body, NatsRawSerializer<byte[]>.Default, new NatsJSPubOpts { MsgId = e.EventId }, cancellationToken: timeout.Token);
                ack.EnsureSuccess();
                return;
            }
            catch (Exception) when (attempt < 20)
            {
                await Task.Delay(200);
            }
        }
    }

    private static Task SetReadyAsync(IKubernetes client, string name, bool ready) =>
        client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(
            KubernetesJson.Serialize(new V1Pod { Status = new V1PodStatus { Phase = "Running", Conditions = [new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False" }] } }),
            V1Patch.PatchType.MergePatch), name, "default");
}

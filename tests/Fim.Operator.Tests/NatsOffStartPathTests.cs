using System.Diagnostics;
using System.Net;
using Fim.Nats;
using Fim.Operator.Api;
using Fim.Operator.Nats;
using Fim.Operator.Runtime;
using Fim.Operator.Tests.Support;
using Fim.Testing;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Fim.Operator.Tests;

/// <summary>Acceptance 4 of the cluster issue, first half: NATS is not on the operator's start path.</summary>
[Collection(Serial.Name)]
public sealed class NatsOffStartPathTests(ITestOutputHelper output)
{
    [Fact]
    public async Task With_NATS_down_at_start_pools_converge_healthz_is_200_policies_show_KvUnavailable_and_all_converge_once_NATS_is_up()
    {
        await using var h = await OperatorHarness.StartAsync();
        var natsDir = Directory.CreateTempSubdirectory("fim-op-nats-");
        await using var nats = await NatsServer.CreateStoppedAsync(natsDir.FullName); // its port is chosen; nothing listens yet
        var options = OperatorHarness.FastOptions("op") with { NatsCallTimeout = TimeSpan.FromSeconds(2) };
        await using var kv = new NatsKvConnection(new NatsClientOptions { Url = nats.Url, Name = "fim-operator-test", ReconnectWaitMax = TimeSpan.FromSeconds(1) }, options.NatsCallTimeout, new TestLoggers(output));
        var agents = kv.AgentDirectory(NullLogger.Instance);
        var runner = h.StartOperator(kv.PolicyStore, agents, options, new TestLoggers(output));
        kv.Available += runner.OnKvAvailable;
        using var stop = new CancellationTokenSource();
        var healthPort = NatsServer.FreePort();
        var background = new[]
        {
            Task.Run(() => kv.RunAsync(stop.Token)),
            Task.Run(() => agents.RunAsync(stop.Token)),
            Task.Run(() => new HealthServer(new BindAddress("127.0.0.1", healthPort), HealthEndpoints.Health, () => runner.Ready, NullLogger.Instance).RunAsync(stop.Token)),
        };
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            await h.Pools.CreateAsync(Samples.Pool());
            var created = Stopwatch.StartNew();
            await h.Policies.CreateAsync(Samples.Policy("p"));

            await Eventually.TrueAsync(async () => Conditions.Find((await h.Policies.GetAsync<FimPolicy>("p"))!.Status?.Conditions, "Published") is { Status: "False", Reason: "KvUnavailable" }, "Published=False KvUnavailable while NATS is down");
            Assert.True(created.Elapsed < TimeSpan.FromSeconds(10), $"KvUnavailable after {created.Elapsed}");
            await Eventually.TrueAsync(async () => (await h.Pools.GetAsync<FimManagerPool>("managers"))!.Status?.ObservedGeneration == 1
                && await Quietly(() => h.Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("managers", "default")) is not null, "the pool converged without NATS");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{healthPort}/healthz")).StatusCode);
            await Eventually.TrueAsync(async () => (await http.GetAsync($"http://127.0.0.1:{healthPort}/readyz")).StatusCode == HttpStatusCode.OK, "/readyz once the leader's controllers run");

            // A policy created during the outage, and a deletion during the outage (its finalizer needs KV).
            await h.Policies.CreateAsync(Samples.Policy("q"));
            await h.Policies.CreateAsync(Samples.Policy("gone"));
            await Eventually.TrueAsync(async () => (await h.Policies.GetAsync<FimPolicy>("gone"))!.Metadata.Finalizers?.Count > 0, "the finalizer on gone");
            await h.Policies.DeleteAsync("gone");

            await nats.StartAsync();
            var up = Stopwatch.StartNew();
            await Eventually.TrueAsync(async () =>
                (await h.Policies.GetAsync<FimPolicy>("p"))!.Status is { PublishedRevision: 1 } ps && Conditions.IsTrue(ps.Conditions, "Published")
                && (await h.Policies.GetAsync<FimPolicy>("q"))!.Status is { PublishedRevision: 1 } qs && Conditions.IsTrue(qs.Conditions, "Published")
                && await h.Policies.GetAsync<FimPolicy>("gone") is null, "everything converged once NATS is up", TimeSpan.FromSeconds(30));
            Assert.True(up.Elapsed < TimeSpan.FromSeconds(10), $"converged {up.Elapsed} after NATS came up");
            Assert.NotNull(await kv.PolicyStore.GetAsync("default.p", CancellationToken.None));
            Assert.Null(await kv.PolicyStore.GetAsync("default.gone", CancellationToken.None));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(background).ContinueWith(_ => { });
            natsDir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_KV_call_NATS_does_not_answer_fails_within_its_timeout()
    {
        // Before the connection opens there is no bucket: the call fails at once.
        var store = new NatsPolicyStore(() => null, TimeSpan.FromSeconds(1));
        var e = await Assert.ThrowsAsync<KvUnavailableException>(() => store.GetAsync("default.p", CancellationToken.None));
        Assert.Contains("not connected to NATS yet", e.Message);

        await using var nats = await NatsServer.StartAsync();
        await using var connection = await NatsConnectionFactory.ConnectAsync(new NatsClientOptions { Url = nats.Url }, null, CancellationToken.None);
        var bucket = await NatsBuckets.OpenAsync(connection, Fim.Contracts.Subjects.PoliciesBucket, CancellationToken.None);
        var bounded = new NatsPolicyStore(() => bucket, TimeSpan.FromSeconds(1));
        await bounded.PutAsync("default.p", [1], CancellationToken.None);
        await nats.StopAsync(kill: true);
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<KvUnavailableException>(() => bounded.GetAsync("default.p", CancellationToken.None));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the call took {watch.Elapsed}");
    }

    private static async Task<T?> Quietly<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}

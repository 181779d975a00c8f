using System.Diagnostics;
using System.Net;
using Fim.Operator.Runtime;
using Fim.Operator.Tests.Support;
using Fim.Testing;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Fim.Operator.Tests;

/// <summary>Work-queue and API-client metrics, the global rate limit, and /readyz before and after the controllers run.</summary>
public sealed class ObservabilityTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Metrics_show_queue_and_API_client_counters_and_readyz_follows_the_controllers()
    {
        await using var h = await OperatorHarness.StartAsync();
        var runner = h.StartOperator(new MemoryPolicyStore(), new MemoryAgentDirectory(), loggers: new TestLoggers(output));
        var port = NatsServer.FreePort();
        using var stop = new CancellationTokenSource();
        var server = Task.Run(() => new HealthServer(new BindAddress("127.0.0.1", port), HealthEndpoints.Metrics | HealthEndpoints.Health, () => runner.Ready, NullLogger.Instance).RunAsync(stop.Token));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            // A standby is ready too (it has seen the Lease): wait until this operator leads, when ready means its controllers run.
            await Eventually.TrueAsync(async () => runner.IsLeader && (await http.GetAsync($"http://127.0.0.1:{port}/readyz")).StatusCode == HttpStatusCode.OK,
                "/readyz once this operator leads and its controllers run");
            Assert.True(runner.Pools!.Running && runner.Policies!.Running);

            await h.Pools.CreateAsync(Samples.Pool());
            await Eventually.TrueAsync(async () => (await h.Client.AppsV1.ListNamespacedDeploymentAsync("default")).Items.Count == 1, "the Deployment");
            var text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
            foreach (var expected in new[]
            {
                "fim_operator_kube_requests_total{verb=\"apply\",code=\"200\"}",
                "fim_operator_kube_requests_total{verb=\"list\",code=\"200\"}",
                "fim_operator_kube_request_duration_seconds_bucket{verb=\"apply\"",
                "fim_operator_queue_adds_total{controller=\"fimmanagerpool\"}",
                "fim_operator_queue_latency_seconds_bucket{controller=\"fimmanagerpool\"",
                "fim_operator_active_workers{controller=\"fimmanagerpool\"}",
            })
            {
                Assert.True(text.Contains(expected, StringComparison.Ordinal), $"{expected} not in\n{string.Join('\n', text.Split('\n').Where(l => l.StartsWith("fim_operator_", StringComparison.Ordinal)))}");
            }

            await h.StopOperatorAsync(runner);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync($"http://127.0.0.1:{port}/readyz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/healthz")).StatusCode);
        }
        finally
        {
            await stop.CancelAsync();
            await server.ContinueWith(_ => { });
        }
    }

    [Fact]
    public async Task The_global_rate_limit_spaces_requests_beyond_the_burst()
    {
        await using var h = await OperatorHarness.StartAsync();
        using var client = new Kubernetes(h.Server.ClientConfiguration(), new KubeClientHandler(new KubeClientOptions { Qps = 10, Burst = 2 }));
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 12; i++)
        {
            await client.CoreV1.ListNamespacedConfigMapAsync("default");
        }

        // 2 at once, then 10 more at 10 per second: at least ~1 s (a busy machine only makes it longer).
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"12 requests took {clock.Elapsed.TotalSeconds:0.00} s");
    }
}

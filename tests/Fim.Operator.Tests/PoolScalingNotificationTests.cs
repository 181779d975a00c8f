using Fim.Operator.Api;
using Fim.Operator.Notifications;
using Fim.Operator.Tests.Support;
using Fim.Testing;
using k8s;
using k8s.Models;
using Xunit.Abstractions;

namespace Fim.Operator.Tests;

/// <summary>
/// Issue 18, pool scaling notifications: when a pool's desired replicas change, the operator says so (and why) as an Event
/// on the pool and as a notification that a real manager's webhook sink posts once.
/// </summary>
[Collection(Serial.Name)]
public sealed class PoolScalingNotificationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_pool_that_scales_is_reported_to_the_webhook_with_the_autoscalers_reason()
    {
        var root = Directory.CreateTempSubdirectory("fim-scaling-").FullName;
        await using var h = await OperatorHarness.StartAsync();
        await using var kv = await NatsKv.StartAsync();
        using var webhook = new TextWebhook();
        using var managers = new ManagerProcesses(kv.Server.Url, root, new Dictionary<string, string>
        {
            ["Fim__Sinks__Webhook__Url"] = webhook.Url,
            ["Fim__Sinks__Webhook__MinLevel"] = "15",
        });
        await ManagerProcesses.AwaitReadyAsync(managers.Start()); // it creates FIM_NOTIFICATIONS and the sink's consumer
        var runner = new OperatorRunner(h.Client, kv.PolicyStore, kv.Agents, OperatorHarness.FastOptions("op-scaling"), new TestLoggers(output))
        {
            Notifications = new NatsNotificationPublisher(() => kv.Connection, TimeSpan.FromSeconds(5)),
        };
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => runner.RunAsync(stop.Token));
        try
        {
            await h.Pools.CreateAsync(Samples.Pool()); // prometheus-adapter HPA, replicas 2..6, pending target 5000 per replica
            await Eventually.TrueAsync(async () => (await h.Pools.GetAsync<FimManagerPool>("managers"))?.Status?.DesiredReplicas == 2, "the first status (2 replicas)");

            // The HPA controller scales up on consumer lag: status as it writes it.
            await WriteHpaStatusAsync(h.Client, desired: 4, pending: "12k", cpu: 40, limited: null);
            var up = await AwaitTextAsync(webhook, "scaled up from 2 to 4");
            Assert.Equal("FIM manager pool default/managers scaled up from 2 to 4 replicas: autoscaler: fim_consumer_pending 12k per replica (target 5k), cpu 40% of requests (target 70%)", up);

            // ... and on to the maximum, which limits it.
            await WriteHpaStatusAsync(h.Client, desired: 6, pending: "40k", cpu: 95, limited: ("TooManyReplicas", "the desired replica count is more than the maximum replica count"));
            var max = await AwaitTextAsync(webhook, "scaled up from 4 to 6");
            Assert.EndsWith("; limited: TooManyReplicas (the desired replica count is more than the maximum replica count)", max);

            var scaled = (await h.Client.CoreV1.ListNamespacedEventAsync("default")).Items.Where(e => e.Reason == "Scaled" && e.InvolvedObject.Kind == FimManagerPool.KindName).ToList();
            Assert.Equal(2, scaled.Count);
            Assert.Contains(scaled, e => e.Message == up);

            // Each change once, though the pool is reconciled again (its resync, the HPA's own status writes).
            await Eventually.TrueAsync(() => runner.Pools!.Queue.Depth == 0, "the pool queue drained");
            Assert.Single(webhook.Texts, t => t.Contains("from 2 to 4", StringComparison.Ordinal));
            Assert.Single(webhook.Texts, t => t.Contains("from 4 to 6", StringComparison.Ordinal));
        }
        finally
        {
            await stop.CancelAsync();
            await run.ContinueWith(_ => { });
            managers.Dispose();
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<string> AwaitTextAsync(TextWebhook webhook, string part)
    {
        string? text = null;
        await Eventually.TrueAsync(() => (text = webhook.Texts.FirstOrDefault(t => t.Contains(part, StringComparison.Ordinal))) is not null,
            () => $"the webhook got '{part}'; it got: {string.Join(" | ", webhook.Texts)}", TimeSpan.FromSeconds(60));
        return text!;
    }

    private static async Task WriteHpaStatusAsync(IKubernetes client, int desired, string pending, int cpu, (string Reason, string Message)? limited)
    {
        var status = new V2HorizontalPodAutoscalerStatus
        {
            CurrentReplicas = 2,
            DesiredReplicas = desired,
            CurrentMetrics =
            [
                new V2MetricStatus
                {
                    Type = "External",
                    External = new V2ExternalMetricStatus
                    {
                        Metric = new V2MetricIdentifier { Name = "fim_consumer_pending" },
                        Current = new V2MetricValueStatus { AverageValue = new ResourceQuantity(pending) },
                    },
                },
                new V2MetricStatus
                {
                    Type = "Resource",
                    Resource = new V2ResourceMetricStatus { Name = "cpu", Current = new V2MetricValueStatus { AverageUtilization = cpu } },
                },
            ],
            Conditions = limited is { } l
                ? [new V2HorizontalPodAutoscalerCondition { Type = "ScalingLimited", Status = "True", Reason = l.Reason, Message = l.Message, LastTransitionTime = DateTime.UtcNow }]
                : [],
        };
        await client.AutoscalingV2.PatchNamespacedHorizontalPodAutoscalerStatusAsync(
            new V1Patch(KubernetesJson.Serialize(new V2HorizontalPodAutoscaler { Status = status }), V1Patch.PatchType.MergePatch), "managers", "default");
    }
}

using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Resilience;
using Fim.Manager.Telemetry;
using Fim.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fim.Manager.Sinks;

/// <summary>
/// Posts notifications (FIM_NOTIFICATIONS: pool scaling, maintenance summaries) to the webhook, from a durable consumer
/// of their own shared by all managers (each notification is posted once), with the alert sink's retries, redirect rules
/// and dead letters (fim.deadletter.webhook). Runs whenever the webhook sink is configured; notifications have no level.
/// </summary>
public sealed class WebhookNotificationWorker(WebhookAlertSink webhook, NatsConnector nats, StreamTopology topology, ManagerMetrics metrics, ManagerRetries retries,
    ILogger<WebhookNotificationWorker> log) : BackgroundService
{
    public const string ConsumerName = "fim-sink-webhook-notifications";
    private const string SinkName = "webhook-notifications";
    private readonly SinkSettlement _settlement = new(SinkName, "webhook", webhook.MaxDeliver, webhook.RetryDelay, metrics, log);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!webhook.Enabled)
        {
            return;
        }
        await retries.Sink(SinkName).KeepRunningAsync(async token =>
        {
            var js = await nats.JetStreamAsync(token);
            var consumer = await topology.DurableAsync(js, Notification.Stream, new ConsumerConfig(ConsumerName)
            {
                DurableName = ConsumerName,
                Description = "Webhook sink for notifications",
                AckPolicy = ConsumerConfigAckPolicy.Explicit,
                AckWait = webhook.AckWait,
                MaxDeliver = webhook.MaxDeliver,
                MaxAckPending = 100,
                FilterSubject = Notification.AllSubjects,
                // All: the stream is made by the managers, so whatever it holds was published for them (30 days at most).
                DeliverPolicy = ConsumerConfigDeliverPolicy.All,
            }, token);
            await foreach (var msg in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, new NatsJSConsumeOpts { MaxMsgs = 20 }, token))
            {
                await HandleAsync(js, msg, token);
            }
        }, stoppingToken);
    }

    private async Task HandleAsync(INatsJSContext js, INatsJSMsg<byte[]> msg, CancellationToken ct)
    {
        Notification? n;
        try
        {
            n = JsonSerializer.Deserialize(msg.Data ?? [], ContractJson.Default.Notification);
        }
        catch (JsonException)
        {
            n = null;
        }
        if (n is null || string.IsNullOrWhiteSpace(n.Text))
        {
            await _settlement.UnreadableAsync(msg, ct);
            return;
        }
        var result = await webhook.PostAsync(n.Text, $"notification {n.Id}", ct);
        await _settlement.SettleAsync(js, msg, result, $"notification {n.Id}", $"webhook:{n.Id}", ct);
    }
}

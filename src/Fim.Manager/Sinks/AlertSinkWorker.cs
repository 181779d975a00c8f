using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Pipeline;
using Fim.Manager.Resilience;
using Fim.Manager.Telemetry;
using Fim.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fim.Manager.Sinks;

/// <summary>
/// Feeds one sink from its own durable consumer on FIM_ALERTS (shared by all managers, so each alert reaches the sink
/// once). New sinks start with alerts stored from then on, not the whole history. An alert the sink still fails on at
/// its last delivery is copied to fim.deadletter.&lt;sink&gt; and terminated. Alerts tagged <see cref="Alert.StoredOnlyTag"/>
/// are acked unsent.
/// </summary>
public sealed class AlertSinkWorker(IAlertSink sink, NatsConnector nats, StreamTopology topology, ManagerMetrics metrics, ManagerRetries retries, ILogger<AlertSinkWorker> log)
    : BackgroundService
{
    private readonly SinkSettlement _settlement = new(sink.Name, sink.Name, sink.MaxDeliver, sink.RetryDelay, metrics, log);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!sink.Enabled)
        {
            return;
        }
        await retries.Sink(sink.Name).KeepRunningAsync(async token =>
        {
            var js = await nats.JetStreamAsync(token);
            var consumer = await topology.DurableAsync(js, Subjects.AlertsStream, new ConsumerConfig(sink.Consumer)
            {
                DurableName = sink.Consumer,
                Description = $"Alert sink {sink.Name}",
                AckPolicy = ConsumerConfigAckPolicy.Explicit,
                AckWait = sink.AckWait,
                MaxDeliver = sink.MaxDeliver,
                MaxAckPending = 1000,
                FilterSubject = Subjects.AllAlerts,
                DeliverPolicy = ConsumerConfigDeliverPolicy.New,
            }, token);
            await foreach (var msg in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, new NatsJSConsumeOpts { MaxMsgs = 100 }, token))
            {
                await HandleAsync(js, msg, token);
            }
        }, stoppingToken);
    }

    private async Task HandleAsync(INatsJSContext js, INatsJSMsg<byte[]> msg, CancellationToken cancellationToken)
    {
        Alert? alert;
        try
        {
            alert = JsonSerializer.Deserialize<Alert>(msg.Data ?? [], ContractJson.Default.Options);
        }
        catch (JsonException)
        {
            alert = null;
        }
        if (alert is null)
        {
            // Only managers publish here; an unreadable alert is a bug, not something a retry fixes.
            await _settlement.UnreadableAsync(msg, cancellationToken);
            return;
        }
        // Stored and searchable, sent nowhere (a passed Prowler check; a rule with notify: false).
        var result = alert.Tags.Contains(Alert.StoredOnlyTag, StringComparer.Ordinal)
            ? SinkResult.Skipped
            : await sink.DeliverAsync(alert, msg.Data ?? [], cancellationToken);
        await _settlement.SettleAsync(js, msg, result, $"alert {alert.AlertId}", $"{sink.Name}:{alert.AlertId}", cancellationToken);
    }
}

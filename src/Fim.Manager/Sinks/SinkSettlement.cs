using Fim.Contracts;
using Fim.Manager.Telemetry;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.Manager.Sinks;

/// <summary>
/// How a sink's consumer settles a message after one delivery attempt, the same for the alert sinks and the webhook's
/// notifications: acked when delivered or skipped; nak'd with the sink's back-off while deliveries remain; otherwise
/// (the last delivery failed, or the sink refused it) copied to fim.deadletter.&lt;<paramref name="DeadLetterName"/>&gt;
/// and terminated.
/// </summary>
/// <param name="Sink">The sink as its metrics and log lines name it.</param>
internal sealed record SinkSettlement(string Sink, string DeadLetterName, int MaxDeliver, Func<ulong, TimeSpan> RetryDelay, ManagerMetrics Metrics, ILogger Log)
{
    /// <summary>A message that does not parse: terminated, as no retry makes it readable.</summary>
    public async Task UnreadableAsync(INatsJSMsg<byte[]> msg, CancellationToken cancellationToken)
    {
        await msg.AckTerminateAsync(cancellationToken: cancellationToken);
        Metrics.SinkDeliveries.WithLabels(Sink, "unreadable").Inc();
    }

    /// <param name="item">What was delivered, for the dead letter and the log ("alert a-1", "notification n-1").</param>
    /// <param name="messageId">The dead letter's message id, so a retried copy is stored once.</param>
    public async Task SettleAsync(INatsJSContext js, INatsJSMsg<byte[]> msg, SinkResult result, string item, string messageId, CancellationToken cancellationToken)
    {
        var delivered = msg.Metadata?.NumDelivered ?? 1;
        switch (result)
        {
            case SinkResult.Delivered or SinkResult.Skipped:
                await msg.AckAsync(cancellationToken: cancellationToken);
                Metrics.SinkDeliveries.WithLabels(Sink, result == SinkResult.Delivered ? "delivered" : "skipped").Inc();
                break;
            case SinkResult.Retry when delivered < (ulong)MaxDeliver:
                await msg.NakAsync(new AckOpts { NakDelay = RetryDelay(delivered) }, cancellationToken);
                Metrics.SinkDeliveries.WithLabels(Sink, "retry").Inc();
                break;
            default:
                var headers = new NatsHeaders
                {
                    [DeadLetter.ReasonHeader] = DeadLetterName,
                    [DeadLetter.DetailHeader] = result == SinkResult.Refused
                        ? $"sink {Sink} refused {item} (see the manager's log)"
                        : $"sink {Sink} failed {delivered} times",
                    [DeadLetter.SubjectHeader] = msg.Subject,
                };
                var ack = await js.PublishAsync(Subjects.DeadLetter(DeadLetterName), msg.Data ?? [], NatsRawSerializer<byte[]>.Default,
                    new NatsJSPubOpts { MsgId = messageId }, headers, cancellationToken);
                ack.EnsureSuccess();
                await msg.AckTerminateAsync(cancellationToken: cancellationToken);
                Metrics.SinkDeliveries.WithLabels(Sink, result == SinkResult.Refused ? "refused" : "failed").Inc();
                Metrics.DeadLetters.WithLabels(DeadLetterName).Inc();
                Log.LogError("Sink {Sink} gave up on {Item} after {Attempts} attempts; copied to {Subject}", Sink, item, delivered,
                    Subjects.DeadLetter(DeadLetterName));
                break;
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Manager.Telemetry;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;

namespace Fim.Manager.Pipeline;

/// <summary>
/// Decides an event's fate from the answer to the publish it caused: ack it once its alert is stored (a duplicate
/// counts as stored: an earlier delivery made it), terminate it once its dead-letter copy is stored, or nak it with a
/// growing delay when the publish failed, so it comes back (to any manager) and is tried again.
/// </summary>
public sealed class EventSettler(IOptions<PipelineOptions> options, ManagerMetrics metrics, ILogger<EventSettler> log)
{
    private static readonly string[] LevelLabels = [.. Enumerable.Range(0, 16).Select(i => i.ToString(CultureInfo.InvariantCulture))];

    private readonly PipelineOptions _options = options.Value;

    /// <summary>Settles the event; <paramref name="ack"/> is null when nothing was published for it.</summary>
    public void Settle(PendingEvent e, PublishAck? ack)
    {
        var handedOn = false;
        try
        {
            if (e.Window.Abandoned)
            {
                return; // shutting down without draining: leave it unacked, the server redelivers it
            }
            var settlement = e.Settlement;
            if (ack is { } answer)
            {
                if (!answer.Stored)
                {
                    log.LogDebug("Publish for {Subject} not stored: {Error}", e.Msg.Subject, answer.Error);
                    if (e.Settlement == Settlement.Ack && e.Publisher is { } publisher && IsLastDelivery(e.Msg.ReplyTo))
                    {
                        handedOn = true;
                        DeadLetterInstead(e, publisher, answer.Error ?? "not stored");
                        return;
                    }
                    settlement = Settlement.Nak;
                }
                else if (answer.Duplicate)
                {
                    metrics.Deduplicated.Inc();
                }
            }
            var sent = settlement switch
            {
                Settlement.Ack => e.Msg.AckAsync(),
                Settlement.Terminate => e.Msg.AckTerminateAsync(),
                _ => e.Msg.NakAsync(new AckOpts { NakDelay = NakDelay(AckSubject.Delivered(e.Msg.ReplyTo)) }),
            };
            if (!sent.IsCompletedSuccessfully)
            {
                _ = ObserveAsync(sent, e.Msg.Subject);
            }
            Count(e, settlement);
            metrics.ProcessingSeconds.Observe(Stopwatch.GetElapsedTime(e.StartedTimestamp).TotalSeconds);
        }
        catch (Exception ex)
        {
            // The ack could not be written (connection lost): the event is redelivered after AckWait, which is safe.
            log.LogDebug("Settling {Subject} failed: {Error}", e.Msg.Subject, ex.Message);
        }
        finally
        {
            if (!handedOn)
            {
                e.Activity?.Dispose();
                e.Window.Leave();
            }
        }
    }

    /// <summary>The consumer allows no further delivery: a nak now would let the server drop the event silently.</summary>
    private bool IsLastDelivery(string? replyTo) => _options.MaxDeliver > 0 && AckSubject.Delivered(replyTo) >= (ulong)_options.MaxDeliver;

    private void DeadLetterInstead(PendingEvent e, JetStreamPublisher publisher, string error)
    {
        var delivered = AckSubject.Delivered(e.Msg.ReplyTo);
        var problem = new DeadLetter(DeadLetter.PublishFailed, $"alert publish failed on delivery {delivered} of {_options.MaxDeliver}: {error}");
        log.LogWarning("Event {Subject} seq {Sequence}: {Detail}; dead-lettering it", e.Msg.Subject, e.Msg.Metadata?.Sequence.Stream, DeadLetter.HeaderSafe(problem.Detail));
        var next = e.AsDeadLetter(problem.Reason);
        // Off the publisher's reply loop, which this runs on: a publish may wait for room in the connection's buffer.
        _ = Task.Run(async () =>
        {
            try
            {
                await DeadLetterCopy.PublishAsync(publisher, e.Msg, problem, next, CancellationToken.None);
            }
            catch (Exception ex)
            {
                // Nak on the last delivery: the server gives up and its max-deliveries advisory brings the event back.
                Settle(next, new PublishAck(0, false, ex.Message));
            }
        });
    }

    private void Count(PendingEvent e, Settlement settlement)
    {
        switch (settlement)
        {
            case Settlement.Ack:
                metrics.EventsConsumed.Inc();
                if (e.AlertLevel > 0)
                {
                    metrics.Alerts.WithLabels(LevelLabels[e.AlertLevel]).Inc();
                }
                else
                {
                    metrics.Silenced.Inc();
                }
                break;
            case Settlement.Terminate:
                metrics.EventsConsumed.Inc();
                metrics.DeadLetters.WithLabels(e.DeadLetterReason ?? "unknown").Inc();
                log.LogWarning("Dead-lettered {Subject} seq {Sequence}: {Reason}", e.Msg.Subject, e.Msg.Metadata?.Sequence.Stream, e.DeadLetterReason);
                break;
            default:
                metrics.TransientFailures.Inc();
                e.Activity?.SetStatus(ActivityStatusCode.Error, "nak");
                break;
        }
    }

    private async Task ObserveAsync(ValueTask sent, string subject)
    {
        try
        {
            await sent;
        }
        catch (Exception e)
        {
            log.LogDebug("Ack for {Subject} not sent: {Error}", subject, e.Message);
        }
    }

    public TimeSpan NakDelay(ulong delivered)
    {
        var exponent = (int)Math.Min(delivered == 0 ? 0 : delivered - 1, 20);
        var ticks = Math.Min(_options.NakDelay.Ticks * (1L << exponent), _options.MaxNakDelay.Ticks);
        return TimeSpan.FromTicks(ticks);
    }
}

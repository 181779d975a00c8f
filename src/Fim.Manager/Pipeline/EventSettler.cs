using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Fim.Manager.Options;
using Fim.Manager.Telemetry;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;

namespace Fim.Manager.Pipeline;

/// <summary>
/// Settles events in the order they were taken: waits for the JetStream ack of the alert (or dead-letter copy) each
/// one caused, and only then acks (or terminates) the event. A failed publish naks the event with a growing delay,
/// so it comes back (to any manager) and is tried again; the alert's message id keeps a retry from storing a second alert.
/// </summary>
public sealed class EventSettler(IOptions<PipelineOptions> options, ManagerMetrics metrics, ILogger<EventSettler> log)
{
    private static readonly string[] LevelLabels = [.. Enumerable.Range(0, 16).Select(i => i.ToString(CultureInfo.InvariantCulture))];

    private readonly PipelineOptions _options = options.Value;

    public async Task RunAsync(ChannelReader<InFlight> window, CancellationToken cancellationToken)
    {
        while (await window.WaitToReadAsync(cancellationToken))
        {
            while (window.TryRead(out var item))
            {
                await SettleAsync(item, cancellationToken);
            }
        }
    }

    private async Task SettleAsync(InFlight item, CancellationToken cancellationToken)
    {
        try
        {
            var settlement = item.Publish is { } publish ? await AwaitPublishAsync(item, publish, cancellationToken) : item.Settlement;
            await ApplyAsync(item, settlement, cancellationToken);
            metrics.ProcessingSeconds.Observe(Stopwatch.GetElapsedTime(item.StartedTimestamp).TotalSeconds);
        }
        finally
        {
            item.Activity?.Dispose();
        }
    }

    private async Task<Settlement> AwaitPublishAsync(InFlight item, NatsJSPublishConcurrentFuture publish, CancellationToken cancellationToken)
    {
        try
        {
            var ack = await publish.GetResponseAsync(cancellationToken);
            if (ack.Error is { } error)
            {
                // EnsureSuccess() would also throw on a duplicate, which here means "stored already": success.
                log.LogDebug("Publish for {Subject} refused: {Code} {Error}", item.Msg.Subject, error.ErrCode, error.Description);
                return Settlement.Nak;
            }
            if (ack.Duplicate)
            {
                metrics.Deduplicated.Inc();
            }
            return item.Settlement;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.LogDebug("Publish for {Subject} not acknowledged: {Error}", item.Msg.Subject, e.Message);
            return Settlement.Nak;
        }
        finally
        {
            try
            {
                await publish.DisposeAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Disposing the reply subscription of a failed publish can rethrow its error (e.g. no responders).
                log.LogTrace("Disposing a publish future failed: {Error}", e.Message);
            }
        }
    }

    private async Task ApplyAsync(InFlight item, Settlement settlement, CancellationToken cancellationToken)
    {
        try
        {
            switch (settlement)
            {
                case Settlement.Ack:
                    await item.Msg.AckAsync(cancellationToken: cancellationToken);
                    metrics.EventsConsumed.Inc();
                    if (item.AlertLevel > 0)
                    {
                        metrics.Alerts.WithLabels(LevelLabels[item.AlertLevel]).Inc();
                    }
                    else
                    {
                        metrics.Silenced.Inc();
                    }
                    break;
                case Settlement.Terminate:
                    await item.Msg.AckTerminateAsync(cancellationToken: cancellationToken);
                    metrics.EventsConsumed.Inc();
                    metrics.DeadLetters.WithLabels(item.DeadLetterReason ?? "unknown").Inc();
                    log.LogWarning("Dead-lettered {Subject} seq {Sequence}: {Reason}", item.Msg.Subject, item.Msg.Metadata?.Sequence.Stream,
                        item.DeadLetterReason);
                    break;
                default:
                    await item.Msg.NakAsync(new AckOpts { NakDelay = NakDelay(item.Msg.Metadata?.NumDelivered ?? 1) }, cancellationToken);
                    metrics.TransientFailures.Inc();
                    item.Activity?.SetStatus(ActivityStatusCode.Error, "nak");
                    break;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The ack did not reach the server (connection lost): the event is redelivered after AckWait, which is safe.
            log.LogDebug("Settling {Subject} failed: {Error}", item.Msg.Subject, e.Message);
        }
    }

    public TimeSpan NakDelay(ulong delivered)
    {
        var exponent = (int)Math.Min(delivered == 0 ? 0 : delivered - 1, 20);
        var ticks = Math.Min(_options.NakDelay.Ticks * (1L << exponent), _options.MaxNakDelay.Ticks);
        return TimeSpan.FromTicks(ticks);
    }
}

using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Manager.Telemetry;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Pipeline;

/// <summary>Refreshes fim_consumer_pending (events not yet delivered + delivered but unacked), the HPA's scaling signal.</summary>
public sealed class PendingGauge(NatsConnector nats, ManagerMetrics metrics, IOptions<PipelineOptions> options, ILogger<PendingGauge> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PendingRefresh);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var js = await nats.JetStreamAsync(stoppingToken);
                var consumer = await js.GetConsumerAsync(Subjects.EventsStream, Subjects.ManagersConsumer, stoppingToken);
                metrics.ConsumerPending.Set(consumer.Info.NumPending + (ulong)Math.Max(0, consumer.Info.NumAckPending));
                await timer.WaitForNextTickAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogDebug("Cannot read consumer info: {Error}", e.Message);
                await ((Task)timer.WaitForNextTickAsync(stoppingToken).AsTask()).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}

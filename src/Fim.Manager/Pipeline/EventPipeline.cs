using System.Threading.Channels;
using Fim.Core.Events;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Manager.Telemetry;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.Manager.Pipeline;

/// <summary>
/// The manager's main loop: ensures the streams and the shared consumer, then pulls events in batches, processes each
/// (<see cref="EventProcessor"/>) and hands it to a bounded window that <see cref="EventSettler"/> drains. Publishing
/// many alerts before awaiting their acks is what makes the pipeline fast; the window bounds how many events are
/// unacked at once. Any failure (NATS away, consumer deleted) restarts the loop after a delay.
/// </summary>
public sealed class EventPipeline(
    NatsConnector nats,
    StreamTopology topology,
    EventProcessor processor,
    EventSettler settler,
    Readiness readiness,
    IOptions<PipelineOptions> options,
    ILogger<EventPipeline> log) : BackgroundService
{
    private readonly PipelineOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var js = await nats.JetStreamAsync(stoppingToken);
                await topology.EnsureAsync(js, stoppingToken);
                var consumer = await js.GetConsumerAsync(Subjects.EventsStream, Subjects.ManagersConsumer, stoppingToken);
                readiness.ConsumerBound = true;
                log.LogInformation("Consuming {Stream} as {Consumer}", Subjects.EventsStream, Subjects.ManagersConsumer);
                delay = TimeSpan.FromMilliseconds(250);
                await RunAsync(js, consumer, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                readiness.ConsumerBound = false;
                log.LogWarning("Event pipeline stopped: {Error}; restarting in {Delay}", e.Message, delay);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
        readiness.ConsumerBound = false;
    }

    private async Task RunAsync(INatsJSContext js, INatsJSConsumer consumer, CancellationToken stoppingToken)
    {
        var window = Channel.CreateBounded<InFlight>(new BoundedChannelOptions(_options.PublishWindow)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var settleStop = new CancellationTokenSource();
        var settling = Task.Run(() => settler.RunAsync(window.Reader, settleStop.Token), CancellationToken.None);
        try
        {
            // Short pull expiry with heartbeats: after a reconnect or a server restart, pulling resumes within seconds.
            var opts = new NatsJSConsumeOpts { MaxMsgs = _options.BatchSize, Expires = TimeSpan.FromSeconds(5), IdleHeartbeat = TimeSpan.FromSeconds(1) };
            await foreach (var msg in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, opts, stoppingToken))
            {
                var item = await processor.ProcessAsync(js, msg, stoppingToken);
                await window.Writer.WriteAsync(item, stoppingToken);
                if (settling.IsCompleted)
                {
                    await settling;
                }
            }
        }
        finally
        {
            window.Writer.TryComplete();
            if (!stoppingToken.IsCancellationRequested || _options.DrainTimeout > TimeSpan.Zero)
            {
                // Finish what is in flight: the alerts are (being) stored, so ack their events now rather than
                // have another manager redo them after AckWait.
                settleStop.CancelAfter(_options.DrainTimeout > TimeSpan.Zero ? _options.DrainTimeout : TimeSpan.FromSeconds(10));
            }
            else
            {
                await settleStop.CancelAsync();
            }
            try
            {
                await settling;
            }
            catch (OperationCanceledException)
            {
                log.LogInformation("Left in-flight events unacked; the server redelivers them after {AckWait}", _options.AckWait);
            }
        }
    }
}

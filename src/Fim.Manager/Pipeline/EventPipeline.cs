using System.Threading.Channels;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Manager.Resilience;
using Fim.Manager.Telemetry;
using Fim.Nats;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.Manager.Pipeline;

/// <summary>
/// The manager's main loop: ensures the streams and the shared consumer, then pulls events in batches, processes each
/// (<see cref="EventProcessor"/>), which starts its alert publish; <see cref="EventSettler"/> acks the event when
/// JetStream answers. Publishing many alerts before their answers come is what makes the pipeline fast; the
/// <see cref="InFlightWindow"/> bounds how many events are unacked at once. Any failure (NATS away, consumer deleted) restarts the loop after a delay.
/// </summary>
public sealed class EventPipeline(
    NatsConnector nats,
    StreamTopology topology,
    EventProcessor processor,
    Readiness readiness,
    IOptions<PipelineOptions> options,
    ManagerRetries retries,
    ILogger<EventPipeline> log) : BackgroundService
{
    private readonly PipelineOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await retries.EventPipeline.KeepRunningAsync(async token =>
        {
            try
            {
                var js = await nats.JetStreamAsync(token);
                await topology.EnsureAsync(js, token);
                var consumer = await js.GetConsumerAsync(Subjects.EventsStream, Subjects.ManagersConsumer, token);
                readiness.ConsumerBound = true;
                log.LogInformation("Consuming {Stream} as {Consumer}", Subjects.EventsStream, Subjects.ManagersConsumer);
                await using var publishing = await nats.ConnectExtraAsync("publisher", token);
                await using var publisher = await JetStreamPublisher.StartAsync(publishing, nats.RequestTimeout, token);
                await RunAsync(publisher, consumer, token);
            }
            finally
            {
                readiness.ConsumerBound = false;
            }
        }, stoppingToken);
    }

    private async Task RunAsync(JetStreamPublisher publisher, INatsJSConsumer consumer, CancellationToken stoppingToken)
    {
        using var window = new InFlightWindow(_options.PublishWindow);
        // The receive loop only hands messages on; workers validate, judge and publish in parallel (JSON and rules are
        // the CPU-heavy part, and one loop doing everything leaves the other cores idle).
        var work = Channel.CreateBounded<INatsJSMsg<byte[]>>(new BoundedChannelOptions(_options.BatchSize)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var workersStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        // One worker: process in the receive loop itself, saving a channel hop and a thread wake-up per event.
        var workers = Enumerable.Range(0, _options.Workers > 1 ? _options.Workers : 0)
            .Select(_ => Task.Run(() => WorkAsync(work.Reader, publisher, window, workersStop.Token), CancellationToken.None))
            .ToArray();
        try
        {
            // Short pull expiry with heartbeats: after a reconnect or a server restart, pulling resumes within seconds.
            var opts = new NatsJSConsumeOpts { MaxMsgs = _options.BatchSize, Expires = TimeSpan.FromSeconds(5), IdleHeartbeat = TimeSpan.FromSeconds(1) };
            await foreach (var msg in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, opts, stoppingToken))
            {
                await window.EnterAsync(stoppingToken);
                if (workers.Length == 0)
                {
                    await processor.ProcessAsync(publisher, msg, window, CancellationToken.None);
                    continue;
                }
                if (!work.Writer.TryWrite(msg))
                {
                    await work.Writer.WriteAsync(msg, stoppingToken);
                }
                if (workers.FirstOrDefault(w => w.IsFaulted) is { } failed)
                {
                    await failed;
                }
            }
        }
        finally
        {
            work.Writer.TryComplete();
            if (stoppingToken.IsCancellationRequested && _options.DrainTimeout == TimeSpan.Zero)
            {
                window.Abandon();
                await workersStop.CancelAsync();
                log.LogInformation("Left {Count} in-flight events unacked; the server redelivers them after {AckWait}", window.Count, _options.AckWait);
            }
            else if (!await window.DrainAsync(_options.DrainTimeout > TimeSpan.Zero ? _options.DrainTimeout : TimeSpan.FromSeconds(10)))
            {
                // What is still in flight is naked when the publisher stops, or redelivered after AckWait.
                log.LogWarning("{Count} events still in flight after the drain timeout", window.Count);
            }
            await workersStop.CancelAsync();
            await Task.WhenAll(workers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task WorkAsync(ChannelReader<INatsJSMsg<byte[]>> work, JetStreamPublisher publisher, InFlightWindow window, CancellationToken cancellationToken)
    {
        while (await work.WaitToReadAsync(cancellationToken))
        {
            while (work.TryRead(out var msg))
            {
                // During a drain the messages still queued here are processed too: they count in the window.
                await processor.ProcessAsync(publisher, msg, window, CancellationToken.None);
            }
        }
    }
}

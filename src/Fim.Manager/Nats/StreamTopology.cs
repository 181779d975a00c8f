using Fim.Contracts;
using Fim.Manager.Options;
using Fim.Manager.Resilience;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using Fim.Nats;

namespace Fim.Manager.Nats;

/// <summary>
/// Creates the streams, the shared "fim-managers" consumer and the KV buckets (fim-agents, fim-policies), or brings the streams to the configured settings. Idempotent and
/// safe when N managers start at once: the server accepts a create with an identical config, and a create that lost
/// a race ("already in use") is retried as an update.
/// </summary>
public sealed class StreamTopology(IOptions<PipelineOptions> options, ILogger<StreamTopology> log)
{
    private const int StreamNotFound = 10059;

    private readonly PipelineOptions _options = options.Value;

    public IReadOnlyList<StreamConfig> Streams =>
    [
        Stream(Subjects.EventsStream, Subjects.AllEvents, _options.EventsMaxAge, "File events from agents"),
        Stream(Subjects.AlertsStream, Subjects.AllAlerts, _options.AlertsMaxAge, "Alerts from managers"),
        Stream(Subjects.DeadLetterStream, Subjects.AllDeadLetters, _options.DeadLetterMaxAge, "Events and alerts that could not be processed"),
        Stream(Subjects.ScansStream, Subjects.AllScans, _options.ScansMaxAge, "Scan records from agents") with { MaxBytes = _options.ScansMaxBytes },
        Stream(Notification.Stream, Notification.AllSubjects, TimeSpan.FromDays(30), "Notifications for people: pool scaling, maintenance summaries"),
    ];

    public ConsumerConfig ManagersConsumer => new(Subjects.ManagersConsumer)
    {
        DurableName = Subjects.ManagersConsumer,
        Description = "Shared by all manager pods: each event goes to one of them",
        AckPolicy = ConsumerConfigAckPolicy.Explicit,
        AckWait = _options.AckWait,
        MaxDeliver = _options.MaxDeliver,
        MaxAckPending = _options.MaxAckPending,
        FilterSubject = Subjects.AllEvents,
        DeliverPolicy = ConsumerConfigDeliverPolicy.All,
        MaxWaiting = 512,
    };

    public async Task EnsureAsync(INatsJSContext js, CancellationToken cancellationToken)
    {
        foreach (var stream in Streams)
        {
            await EnsureStreamAsync(js, stream, cancellationToken);
        }
        await EnsureConsumerAsync(js, Subjects.EventsStream, ManagersConsumer, cancellationToken);
        // The buckets too: without the operator nothing else would create them (agents may not), and heartbeats and
        // policy watches would fail forever.
        var kv = new NatsKVContext(js);
        foreach (var bucket in FimBuckets.All)
        {
            await FimBuckets.OpenOrCreateAsync(kv, bucket, _options.Replicas, cancellationToken);
        }
    }

    /// <summary>Creates the stream or brings it to <paramref name="wanted"/>; a create that lost a race looks again.</summary>
    public Task EnsureStreamAsync(INatsJSContext js, StreamConfig wanted, CancellationToken cancellationToken) =>
        ManagerRetries.TopologyRace.ExecuteAsync(async token =>
        {
            try
            {
                var existing = await js.GetStreamAsync(wanted.Name!, cancellationToken: token);
                if (!NeedsUpdate(existing.Info.Config, wanted))
                {
                    return;
                }
                // Keep what an operator may have tuned (limits, placement) and set only what the manager depends on.
                var config = existing.Info.Config with
                {
                    Subjects = wanted.Subjects,
                    DuplicateWindow = wanted.DuplicateWindow,
                    MaxAge = wanted.MaxAge,
                    NumReplicas = wanted.NumReplicas,
                };
                await js.UpdateStreamAsync(config, token);
                log.LogInformation("Updated stream {Stream}", wanted.Name);
            }
            catch (NatsJSApiException e) when (e.Error.ErrCode == StreamNotFound)
            {
                await js.CreateStreamAsync(wanted, token);
                log.LogInformation("Created stream {Stream}", wanted.Name);
            }
        }, cancellationToken).AsTask();

    /// <summary>
    /// The durable consumer <paramref name="wanted"/> on <paramref name="stream"/>, created or brought to its config once
    /// every stream exists (a worker may also publish to another, as the sinks do to dead letters).
    /// </summary>
    public async Task<INatsJSConsumer> DurableAsync(INatsJSContext js, string stream, ConsumerConfig wanted, CancellationToken cancellationToken)
    {
        foreach (var s in Streams)
        {
            await EnsureStreamAsync(js, s, cancellationToken);
        }
        await EnsureConsumerAsync(js, stream, wanted, cancellationToken);
        return await js.GetConsumerAsync(stream, wanted.Name!, cancellationToken);
    }

    /// <summary>Concurrent creates of the same durable can collide on older servers; the next attempt sees it.</summary>
    public Task EnsureConsumerAsync(INatsJSContext js, string stream, ConsumerConfig wanted, CancellationToken cancellationToken) =>
        ManagerRetries.TopologyRace.ExecuteAsync(async token => await js.CreateOrUpdateConsumerAsync(stream, wanted, token), cancellationToken).AsTask();

    private static bool NeedsUpdate(StreamConfig have, StreamConfig want) =>
        have.DuplicateWindow != want.DuplicateWindow
        || have.MaxAge != want.MaxAge
        || have.NumReplicas != want.NumReplicas
        || !(have.Subjects ?? []).SequenceEqual(want.Subjects ?? []);

    private StreamConfig Stream(string name, string subject, TimeSpan maxAge, string description) => new(name, [subject])
    {
        Description = description,
        Storage = StreamConfigStorage.File,
        Retention = StreamConfigRetention.Limits,
        DuplicateWindow = _options.DuplicateWindow,
        MaxAge = maxAge,
        NumReplicas = _options.Replicas,
        Discard = StreamConfigDiscard.Old,
        AllowDirect = true,
    };
}

using Fim.Manager.Agents;
using Fim.Manager.Pipeline;
using Fim.Manager.Sinks;
using Fim.Nats;
using NATS.Client.JetStream;
using Polly;
using Polly.Retry;

namespace Fim.Manager.Resilience;

/// <summary>
/// Every retry of the manager in one place. The NATS connection itself is retried by the client
/// (<see cref="Fim.Nats.NatsConnectionFactory"/>); an alert a sink could not deliver is redelivered by JetStream (nak
/// with the sink's delay), which survives a manager restart; what is left are the long-running loops below.
/// </summary>
public sealed class ManagerRetries(ILoggerFactory loggers, TimeProvider time)
{
    /// <summary>The event pipeline (NATS away, consumer deleted): soon at first, then at most every 10 s.</summary>
    public static readonly RetryBackoff PipelineRestart = new(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));

    public static readonly RetryBackoff SinkRestart = RetryBackoff.Constant(TimeSpan.FromSeconds(2));

    /// <summary>A batch the store refused (database restarting, locked): unacked it stays in JetStream, so this only keeps it moving sooner than redelivery.</summary>
    public static readonly RetryBackoff StoreWrite = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));

    /// <summary>The watch of the agents bucket, which does not exist until the first agent sends a heartbeat.</summary>
    public static readonly RetryBackoff AgentsWatch = RetryBackoff.Constant(TimeSpan.FromSeconds(2));

    /// <summary>
    /// Managers starting together race to create the same stream or durable consumer; the loser looks again. A few
    /// quick attempts, only for the errors such a race gives.
    /// </summary>
    public static readonly ResiliencePipeline TopologyRace = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
    {
        ShouldHandle = new PredicateBuilder().Handle<NatsJSApiException>(e => e.Error.ErrCode == StreamNameInUse || e.Error.Code is 400 or 500),
        MaxRetryAttempts = 4,
        BackoffType = DelayBackoffType.Linear,
        Delay = TimeSpan.FromMilliseconds(50),
    }).Build();

    private const int StreamNameInUse = 10058;

    public ResiliencePipeline EventPipeline { get; } = RetryForever.Create("the event pipeline", PipelineRestart, loggers.CreateLogger<EventPipeline>(), time);

    public ResiliencePipeline MaxDeliveries { get; } = RetryForever.Create("the max-deliveries advisory watch", SinkRestart, loggers.CreateLogger<MaxDeliveriesWatch>(), time);

    public ResiliencePipeline WatchAgents { get; } = RetryForever.Create($"the watch of KV {Fim.Contracts.Subjects.AgentsBucket}", AgentsWatch, loggers.CreateLogger<AgentDirectory>(), time);

    public ResiliencePipeline WatchIdentities { get; } = RetryForever.Create($"the watch of KV {Fim.Contracts.Subjects.IdentitiesBucket}", AgentsWatch, loggers.CreateLogger<Fim.Manager.Enrollment.IdentityDirectory>(), time);

    public ResiliencePipeline Indexer { get; } = RetryForever.Create("the alert store indexer", PipelineRestart, loggers.CreateLogger<Fim.Manager.Store.AlertIndexer>(), time);

    public ResiliencePipeline StoreAlerts { get; } = RetryForever.Create("storing a batch of alerts", StoreWrite, loggers.CreateLogger<Fim.Manager.Store.AlertIndexer>(), time);

    public ResiliencePipeline StoreScans { get; } = RetryForever.Create("storing a batch of scan records", StoreWrite, loggers.CreateLogger<Fim.Manager.Store.ScanIndexer>(), time);

    public ResiliencePipeline Sink(string name) => RetryForever.Create($"sink {name}", SinkRestart, loggers.CreateLogger<AlertSinkWorker>(), time);
}

namespace Fim.Manager.Options;

/// <summary>The event pipeline and the streams it needs (section Fim:Pipeline).</summary>
public sealed class PipelineOptions
{
    public const string Section = "Fim:Pipeline";

    /// <summary>Messages pulled from the consumer per request.</summary>
    public int BatchSize { get; set; } = 1000;
    /// <summary>Tasks validating, judging and publishing events in parallel.</summary>
    public int Workers { get; set; } = Math.Max(1, Environment.ProcessorCount);
    /// <summary>Alert publishes awaiting their JetStream ack at once; the events behind them wait unacked.</summary>
    public int PublishWindow { get; set; } = 2048;
    /// <summary>Events larger than this go to the dead letter stream (reason "oversized").</summary>
    public int MaxEventBytes { get; set; } = 256 * 1024;
    /// <summary>How long the server waits for an ack before it redelivers an event (to any manager).</summary>
    public TimeSpan AckWait { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Deliveries of one event before the server gives up on it.</summary>
    public int MaxDeliver { get; set; } = 10;
    /// <summary>Unacked events the consumer hands out across all managers.</summary>
    public int MaxAckPending { get; set; } = 20_000;
    /// <summary>First delay of a nak after a transient failure; doubles per delivery up to <see cref="MaxNakDelay"/>.</summary>
    public TimeSpan NakDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxNakDelay { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// On shutdown, how long to finish the alerts in flight and ack their events. Zero abandons them at once:
    /// the server redelivers them after <see cref="AckWait"/> (and the alert dedupe keeps that from doubling alerts).
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Dedupe window of FIM_EVENTS and FIM_ALERTS: a message id seen within it is stored once.</summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromMinutes(2);
    /// <summary>Retention; zero keeps messages until the stream limits say otherwise.</summary>
    public TimeSpan EventsMaxAge { get; set; } = TimeSpan.FromDays(30);
    /// <summary>PCI DSS 10.5.1 asks for one year of audit history.</summary>
    public TimeSpan AlertsMaxAge { get; set; } = TimeSpan.FromDays(400);
    public TimeSpan DeadLetterMaxAge { get; set; } = TimeSpan.FromDays(30);
    /// <summary>How long FIM_SCANS keeps scan records; the store keeps them for Fim:Store:RetentionDays.</summary>
    public TimeSpan ScansMaxAge { get; set; } = TimeSpan.FromDays(30);
    /// <summary>FIM_SCANS's size cap (oldest records go first): a fleet that scans often cannot fill the server's disk.</summary>
    public long ScansMaxBytes { get; set; } = 1L << 30;
    public int Replicas { get; set; } = 1;
    /// <summary>How often fim_consumer_pending is refreshed.</summary>
    public TimeSpan PendingRefresh { get; set; } = TimeSpan.FromSeconds(5);
}

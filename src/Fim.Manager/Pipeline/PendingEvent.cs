using System.Diagnostics;
using Fim.Manager.Nats;
using NATS.Client.JetStream;

namespace Fim.Manager.Pipeline;

public enum Settlement
{
    Ack,
    Terminate,
    Nak,
}

/// <summary>
/// An event taken from the consumer and what should happen to it once the publish it caused (alert or dead-letter copy)
/// is answered. Settled straight from the publisher's reply loop: no queue, no thread hop, and in no particular order
/// (acks of different events are independent).
/// </summary>
public sealed class PendingEvent(
    INatsJSMsg<byte[]> msg,
    Settlement settlement,
    string? deadLetterReason,
    int alertLevel,
    long startedTimestamp,
    Activity? activity,
    EventSettler settler,
    InFlightWindow window) : IPublishCallback
{
    public INatsJSMsg<byte[]> Msg { get; } = msg;
    public Settlement Settlement { get; } = settlement;
    public string? DeadLetterReason { get; } = deadLetterReason;
    /// <summary>Level of the alert published; 0 when none was (silenced), -1 for a dead letter or a failure.</summary>
    public int AlertLevel { get; } = alertLevel;
    public long StartedTimestamp { get; } = startedTimestamp;
    public Activity? Activity { get; } = activity;
    public InFlightWindow Window { get; } = window;
    /// <summary>Where the alert was published; set for alert publishes, so a failure on the last delivery can be dead-lettered.</summary>
    public JetStreamPublisher? Publisher { get; init; }

    /// <summary>The same event, now waiting for its dead-letter copy (same window slot, same trace).</summary>
    public PendingEvent AsDeadLetter(string reason) => new(Msg, Settlement.Terminate, reason, -1, StartedTimestamp, Activity, settler, Window);

    public void OnPublished(PublishAck ack) => settler.Settle(this, ack);
}

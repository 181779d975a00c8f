using System.Diagnostics;
using Fim.Core.Events;
using Fim.Manager.Telemetry;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.Manager.Pipeline;

/// <summary>
/// Turns one delivered event into what must happen to it: an alert publish (ack the event once JetStream acked the
/// alert), a dead-letter copy (terminate the event once the copy is stored), or nothing to publish (ack). Starts the
/// publish without waiting for its ack, so many are in flight at once; <see cref="EventSettler"/> waits for them.
/// </summary>
public sealed class EventProcessor(EventValidator validator, EventJudge judge, ManagerMetrics metrics, ILogger<EventProcessor> log)
{
    private static readonly NatsRawSerializer<byte[]> Raw = NatsRawSerializer<byte[]>.Default;

    public async ValueTask<InFlight> ProcessAsync(INatsJSContext js, INatsJSMsg<byte[]> msg, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var activity = ManagerTracing.StartProcessing(msg.Headers, msg.Subject);
        if (msg.Metadata is { NumDelivered: > 1 })
        {
            metrics.Redeliveries.Inc();
        }
        try
        {
            var validation = validator.Validate(msg.Subject, msg.Data ?? []);
            if (validation.Problem is { } problem)
            {
                activity?.SetTag("fim.dead_letter.reason", problem.Reason);
                var future = await PublishDeadLetterAsync(js, msg, problem, cancellationToken);
                return new InFlight(msg, future, Settlement.Terminate, problem.Reason, -1, started, activity);
            }
            var judgement = judge.Judge(validation.Event!);
            if (!judgement.KnownAgent)
            {
                metrics.UnknownAgentEvents.Inc();
            }
            if (judgement.Alert is not { } alert)
            {
                return new InFlight(msg, null, Settlement.Ack, null, 0, started, activity);
            }
            activity?.SetTag("fim.alert.level", alert.Level);
            activity?.SetTag("fim.rule.id", alert.Rule.Id);
            NatsHeaders? headers = null;
            if (ManagerTracing.TraceParentFor(activity, msg.Headers) is { } traceParent)
            {
                headers = new NatsHeaders { [ManagerTracing.TraceParent] = traceParent };
            }
            var published = await js.PublishConcurrentAsync(Subjects.Alerts(alert.Level, alert.AgentId), EventJson.SerializeToUtf8(alert), Raw,
                new NatsJSPubOpts { MsgId = alert.AlertId }, headers, cancellationToken);
            return new InFlight(msg, published, Settlement.Ack, null, alert.Level, started, activity);
        }
        catch (Exception e) when (e is NatsException or TimeoutException)
        {
            // NATS is away or the publish could not even start: let the event come back later.
            log.LogDebug("Publish for {Subject} failed to start: {Error}", msg.Subject, e.Message);
            return new InFlight(msg, null, Settlement.Nak, null, -1, started, activity);
        }
    }

    private static ValueTask<NatsJSPublishConcurrentFuture> PublishDeadLetterAsync(INatsJSContext js, INatsJSMsg<byte[]> msg, DeadLetter problem,
        CancellationToken cancellationToken)
    {
        var headers = new NatsHeaders
        {
            [DeadLetter.ReasonHeader] = problem.Reason,
            [DeadLetter.DetailHeader] = DeadLetter.HeaderSafe(problem.Detail),
            [DeadLetter.SubjectHeader] = msg.Subject,
        };
        string? msgId = null;
        if (msg.Metadata is { } meta)
        {
            headers[DeadLetter.StreamHeader] = meta.Stream;
            headers[DeadLetter.SequenceHeader] = meta.Sequence.Stream.ToString(System.Globalization.CultureInfo.InvariantCulture);
            headers[DeadLetter.DeliveredHeader] = meta.NumDelivered.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // One copy per original message, however often it is delivered.
            msgId = $"{meta.Stream}:{meta.Sequence.Stream}";
        }
        if (msg.Headers is not null && msg.Headers.TryGetLastValue(ManagerTracing.TraceParent, out var traceParent))
        {
            headers[ManagerTracing.TraceParent] = traceParent;
        }
        return js.PublishConcurrentAsync(Subjects.DeadLetter(problem.Reason), msg.Data ?? [], Raw, new NatsJSPubOpts { MsgId = msgId }, headers,
            cancellationToken);
    }
}

public enum Settlement
{
    Ack,
    Terminate,
    Nak,
}

/// <summary>An event taken from the consumer whose fate waits on <see cref="Publish"/> (null when nothing was published).</summary>
public readonly record struct InFlight(
    INatsJSMsg<byte[]> Msg,
    NatsJSPublishConcurrentFuture? Publish,
    Settlement Settlement,
    string? DeadLetterReason,
    int AlertLevel,
    long StartedTimestamp,
    Activity? Activity);

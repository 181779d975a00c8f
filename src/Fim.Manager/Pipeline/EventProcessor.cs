using System.Diagnostics;
using Fim.Contracts;
using Fim.Manager.Enrollment;
using Fim.Manager.Nats;
using Fim.Manager.Telemetry;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.Manager.Pipeline;

/// <summary>
/// Handles one delivered event: validates it, judges it, and starts the publish it calls for (the alert, or the
/// dead-letter copy) without waiting for JetStream's answer; <see cref="EventSettler"/> acts on that answer. Events
/// with nothing to publish (silenced) are settled at once.
/// </summary>
public sealed class EventProcessor(EventValidator validator, EventProvenance provenance, EventJudge judge, EventSettler settler, ManagerMetrics metrics, ILogger<EventProcessor> log)
{
    public async ValueTask ProcessAsync(JetStreamPublisher publisher, INatsJSMsg<byte[]> msg, InFlightWindow window, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var activity = ManagerTracing.StartProcessing(msg.Headers, msg.Subject);
        if (AckSubject.Delivered(msg.ReplyTo) > 1)
        {
            metrics.Redeliveries.Inc();
        }
        PendingEvent? pending = null;
        try
        {
            var validation = validator.Validate(msg.Subject, msg.Data ?? []);
            if (validation.Problem is { } problem)
            {
                activity?.SetTag("fim.dead_letter.reason", problem.Reason);
                pending = new PendingEvent(msg, Settlement.Terminate, problem.Reason, -1, started, activity, settler, window);
                log.LogWarning("Event {Subject} seq {Sequence} refused: {Reason}: {Detail}", msg.Subject, msg.Metadata?.Sequence.Stream, problem.Reason,
                    DeadLetter.HeaderSafe(problem.Detail));
                await DeadLetterCopy.PublishAsync(publisher, msg, problem, pending, cancellationToken);
                return;
            }
            var origin = await provenance.CheckAsync(validation.Event!, msg.Data, msg.Headers, cancellationToken);
            if (origin.Problem is { } forged)
            {
                activity?.SetTag("fim.dead_letter.reason", forged.Reason);
                pending = new PendingEvent(msg, Settlement.Terminate, forged.Reason, -1, started, activity, settler, window);
                // A reused id: its own alert too, since the first event with that id may have been the forgery.
                var own = forged.StillJudged ? judge.Judge(validation.Event!).Alert : null;
                // Several copies, one settlement: the event is terminated once the alerts and the dead letter are stored.
                var both = new JointPublishCallback(pending, own is null ? 2 : 3);
                using (var forgedJson = ManagerJson.SerializePooled(forged.Alert))
                {
                    await publisher.PublishAsync(Subjects.Alerts(forged.Alert.Level, forged.Alert.AgentId), forgedJson.Written, forged.Alert.AlertId, null, both, cancellationToken);
                }
                if (own is not null)
                {
                    using var ownJson = ManagerJson.SerializePooled(own);
                    await publisher.PublishAsync(Subjects.Alerts(own.Level, own.AgentId), ownJson.Written, EventContent.MessageId(own.AlertId, origin.Digest), null, both, cancellationToken);
                }
                log.LogWarning("Event {Subject} seq {Sequence} refused: {Reason}: {Detail}", msg.Subject, msg.Metadata?.Sequence.Stream, forged.Reason,
                    DeadLetter.HeaderSafe(forged.Detail));
                await DeadLetterCopy.PublishAsync(publisher, msg, new DeadLetter(forged.Reason, forged.Detail), both, cancellationToken);
                return;
            }
            var judgement = judge.Judge(validation.Event!);
            if (!judgement.KnownAgent)
            {
                metrics.UnknownAgentEvents.Inc();
            }
            if (judgement.Alert is not { } alert)
            {
                settler.Settle(new PendingEvent(msg, Settlement.Ack, null, 0, started, activity, settler, window), null);
                return;
            }
            activity?.SetTag("fim.alert.level", alert.Level);
            activity?.SetTag("fim.rule.id", alert.Rule.Id);
            NatsHeaders? headers = null;
            if (ManagerTracing.TraceParentFor(activity, msg.Headers) is { } traceParent)
            {
                headers = new NatsHeaders { [ManagerTracing.TraceParent] = traceParent };
            }
            pending = new PendingEvent(msg, Settlement.Ack, null, alert.Level, started, activity, settler, window) { Publisher = publisher };
            using var json = ManagerJson.SerializePooled(alert);
            // The digest in the message id: a forged alert-to-be with a guessed id cannot make the genuine one a duplicate.
            await publisher.PublishAsync(Subjects.Alerts(alert.Level, alert.AgentId), json.Written, EventContent.MessageId(alert.AlertId, origin.Digest), headers, pending, cancellationToken);
        }
        catch (Exception e) when (e is NatsException or TimeoutException)
        {
            // NATS is away and the publish could not even be written: let the event come back later.
            log.LogDebug("Publish for {Subject} failed to start: {Error}", msg.Subject, e.Message);
            settler.Settle(pending ?? new PendingEvent(msg, Settlement.Nak, null, -1, started, activity, settler, window),
                new PublishAck(0, false, e.Message));
        }
    }
}

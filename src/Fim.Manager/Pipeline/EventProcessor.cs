using System.Diagnostics;
using Fim.Contracts;
using Fim.Manager.Enrollment;
using Fim.Manager.Nats;
using Fim.Manager.Telemetry;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.Manager.Pipeline;

/// <summary>
/// Handles one delivered event: validates it, proves its origin, judges it, and starts the publishes it calls for (the
/// claim of its id and its alert, or the dead-letter copy) without waiting for JetStream's answers;
/// <see cref="ClaimedEvent"/> and <see cref="EventSettler"/> act on them.
/// </summary>
public sealed class EventProcessor(
    EventValidator validator,
    EventProvenance provenance,
    EventIdClaims claims,
    TakenIdSettler takenIds,
    EventJudge judge,
    EventSettler settler,
    ManagerMetrics metrics,
    ILogger<EventProcessor> log)
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
            var origin = provenance.Check(validation.Event!, msg.Data, msg.Headers);
            if (origin.Problem is { } forged)
            {
                activity?.SetTag("fim.dead_letter.reason", forged.Reason);
                pending = new PendingEvent(msg, Settlement.Terminate, forged.Reason, -1, started, activity, settler, window);
                // Two copies, one settlement: the event is terminated once the alert and the dead letter are stored.
                var both = new JointPublishCallback(pending, 2);
                using (var forgedJson = ManagerJson.SerializePooled(forged.Alert))
                {
                    await publisher.PublishAsync(Subjects.Alerts(forged.Alert.Level, forged.Alert.AgentId), forgedJson.Written, forged.Alert.AlertId, null, both, cancellationToken);
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
            var alert = judgement.Alert;
            pending = new PendingEvent(msg, Settlement.Ack, null, alert?.Level ?? 0, started, activity, settler, window) { Publisher = alert is null ? null : publisher };
            // Every event claims its id, silenced or not: deduplication by id alone would let a forged event with a guessed id
            // turn the genuine one into a silent duplicate, so the id is kept with its content digest and a mismatch is named.
            var claimed = new ClaimedEvent(pending, validation.Event!, origin.Digest, publisher, takenIds, withAlert: alert is not null);
            await claims.ClaimAsync(publisher, validation.Event!.EventId, origin.Digest, claimed.Claim, cancellationToken);
            if (alert is null)
            {
                return;
            }
            activity?.SetTag("fim.alert.level", alert.Level);
            activity?.SetTag("fim.rule.id", alert.Rule.Id);
            NatsHeaders? headers = null;
            if (ManagerTracing.TraceParentFor(activity, msg.Headers) is { } traceParent)
            {
                headers = new NatsHeaders { [ManagerTracing.TraceParent] = traceParent };
            }
            using var json = ManagerJson.SerializePooled(alert);
            // The digest in the message id: a forged alert-to-be with a guessed id cannot make the genuine one a duplicate.
            await publisher.PublishAsync(Subjects.Alerts(alert.Level, alert.AgentId), json.Written, EventContent.MessageId(alert.AlertId, origin.Digest), headers, claimed, cancellationToken);
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

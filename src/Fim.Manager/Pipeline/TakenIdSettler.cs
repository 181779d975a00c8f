using Fim.Contracts;
using Fim.Manager.Enrollment;
using Fim.Manager.Nats;

namespace Fim.Manager.Pipeline;

/// <summary>
/// Settles an event whose id was already claimed: with the same content it is a redelivery and settles as stored; with
/// other content it is a reuse, which becomes a dead letter and a level-12 alert (its own alert is stored already: which
/// of the two events is genuine cannot be told from the order they came in).
/// </summary>
public sealed class TakenIdSettler(EventIdClaims claims, ILogger<TakenIdSettler> log)
{
    /// <summary>Called on the publisher's reply loop: the KV read and the publishes run off it.</summary>
    public void Settle(ClaimedEvent claimed, PublishAck asStored) => _ = Task.Run(() => SettleAsync(claimed, asStored));

    private async Task SettleAsync(ClaimedEvent claimed, PublishAck asStored)
    {
        var pending = claimed.Pending;
        try
        {
            var first = await claims.FirstDigestAsync(claimed.Event.EventId, CancellationToken.None);
            if (first is null || first == claimed.Digest)
            {
                pending.OnPublished(asStored);
                return;
            }
            var reuse = EventProvenance.Reuse(claimed.Event, claimed.Digest, first);
            pending.Activity?.SetTag("fim.dead_letter.reason", reuse.Reason);
            var both = new JointPublishCallback(pending.AsDeadLetter(reuse.Reason), 2);
            using (var json = ManagerJson.SerializePooled(reuse.Alert))
            {
                await claimed.Publisher.PublishAsync(Subjects.Alerts(reuse.Alert.Level, reuse.Alert.AgentId), json.Written, reuse.Alert.AlertId, null, both,
                    CancellationToken.None);
            }
            log.LogWarning("Event {Subject} seq {Sequence} refused: {Reason}: {Detail}", pending.Msg.Subject, pending.Msg.Metadata?.Sequence.Stream, reuse.Reason,
                DeadLetter.HeaderSafe(reuse.Detail));
            await DeadLetterCopy.PublishAsync(claimed.Publisher, pending.Msg, new DeadLetter(reuse.Reason, reuse.Detail), both, CancellationToken.None);
        }
        catch (Exception e)
        {
            // KV or the connection is away: the event comes back later and is claimed again.
            pending.OnPublished(new PublishAck(0, false, e.Message));
        }
    }
}

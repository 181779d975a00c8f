using Fim.Contracts;
using Fim.Manager.Enrollment;
using Fim.Manager.Nats;

namespace Fim.Manager.Pipeline;

/// <summary>
/// An event waiting for two answers, both on the publisher's reply loop: the claim of its id
/// (<see cref="EventIdClaims"/>) and its alert's publish, when it has an alert. Once both are in it is settled as the
/// alert's answer says, unless the claim was refused because the id was taken, which <see cref="TakenIdSettler"/> decides.
/// </summary>
public sealed class ClaimedEvent : IPublishCallback
{
    private readonly Lock _gate = new();
    private readonly TakenIdSettler _taken;
    private int _left;
    private PublishAck? _claim;
    private PublishAck? _alert;

    public ClaimedEvent(PendingEvent pending, FileEvent e, string digest, JetStreamPublisher publisher, TakenIdSettler taken, bool withAlert)
    {
        Pending = pending;
        Event = e;
        Digest = digest;
        Publisher = publisher;
        _taken = taken;
        _left = withAlert ? 2 : 1;
        Claim = new ClaimAnswer(this);
    }

    public PendingEvent Pending { get; }
    public FileEvent Event { get; }
    public string Digest { get; }
    public JetStreamPublisher Publisher { get; }

    /// <summary>The callback for the id claim's publish.</summary>
    public IPublishCallback Claim { get; }

    /// <summary>The alert's answer.</summary>
    public void OnPublished(PublishAck ack) => Answer(ack, isClaim: false);

    private void Answer(PublishAck ack, bool isClaim)
    {
        lock (_gate)
        {
            if (isClaim)
            {
                _claim = ack;
            }
            else
            {
                _alert = ack;
            }
            if (--_left != 0)
            {
                return;
            }
        }
        var claim = _claim!.Value;
        if (_alert is { Stored: false } failed)
        {
            Pending.OnPublished(failed);
        }
        else if (claim.Stored)
        {
            Pending.OnPublished(_alert ?? claim);
        }
        else if (EventIdClaims.IsTaken(claim))
        {
            _taken.Settle(this, _alert ?? new PublishAck(0, Duplicate: true, null));
        }
        else
        {
            Pending.OnPublished(claim);
        }
    }

    private sealed class ClaimAnswer(ClaimedEvent owner) : IPublishCallback
    {
        public void OnPublished(PublishAck ack) => owner.Answer(ack, isClaim: true);
    }
}

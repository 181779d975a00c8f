using Fim.Manager.Nats;

namespace Fim.Manager.Enrollment;

/// <summary>Waits for <paramref name="count"/> publish answers, then tells <paramref name="inner"/> once: the first failure, or the last success.</summary>
public sealed class JointPublishCallback(IPublishCallback inner, int count) : IPublishCallback
{
    private readonly Lock _gate = new();
    private int _left = count;
    private PublishAck? _failure;

    public void OnPublished(PublishAck ack)
    {
        PublishAck result;
        lock (_gate)
        {
            if (!ack.Stored)
            {
                _failure ??= ack;
            }
            if (--_left != 0)
            {
                return;
            }
            result = _failure ?? ack;
        }
        inner.OnPublished(result);
    }
}

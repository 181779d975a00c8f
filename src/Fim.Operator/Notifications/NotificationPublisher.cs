using Fim.Contracts;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.Operator.Notifications;

/// <summary>Sends notifications (pool scaled) to stream FIM_NOTIFICATIONS, which the managers' webhook sink reads.</summary>
public interface INotificationPublisher
{
    Task PublishAsync(Notification notification, CancellationToken ct);
}

/// <summary>
/// JetStream publish with Nats-Msg-Id = the notification's id (a retry is stored once), bounded by a timeout. The stream is
/// the managers' (they create it at start): without it the publish fails and the caller logs it.
/// </summary>
public sealed class NatsNotificationPublisher(Func<NatsConnection?> connection, TimeSpan timeout) : INotificationPublisher
{
    public async Task PublishAsync(Notification notification, CancellationToken ct)
    {
        var nats = connection() ?? throw new InvalidOperationException("not connected to NATS yet");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var js = new NatsJSContext(nats);
        var ack = await js.PublishAsync(Notification.Subject(notification.Kind), ContractJson.ToUtf8(notification), NatsRawSerializer<byte[]>.Default,
            new NatsJSPubOpts { MsgId = notification.Id }, cancellationToken: deadline.Token);
        ack.EnsureSuccess();
    }
}

using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Telemetry;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.Manager.Pipeline;

/// <summary>Publishes the dead-letter copy of a delivered event: its bytes unchanged, the headers of <see cref="DeadLetter"/>.</summary>
public static class DeadLetterCopy
{
    public static ValueTask PublishAsync(JetStreamPublisher publisher, INatsJSMsg<byte[]> msg, DeadLetter problem, IPublishCallback callback,
        CancellationToken cancellationToken)
    {
        var meta = msg.Metadata;
        var headers = ToNats(problem.Headers(msg.Subject, meta?.Stream, meta?.Sequence.Stream, meta?.NumDelivered));
        if (msg.Headers is not null && msg.Headers.TryGetLastValue(ManagerTracing.TraceParent, out var traceParent))
        {
            headers[ManagerTracing.TraceParent] = traceParent;
        }
        var msgId = meta is { } m ? DeadLetter.MessageId(m.Stream, m.Sequence.Stream) : null;
        return publisher.PublishAsync(Subjects.DeadLetter(problem.Reason), msg.Data ?? [], msgId, headers, callback, cancellationToken);
    }

    public static NatsHeaders ToNats(IReadOnlyDictionary<string, string> headers)
    {
        var result = new NatsHeaders();
        foreach (var (name, value) in headers)
        {
            result[name] = value;
        }
        return result;
    }
}

using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Resilience;
using Fim.Manager.Telemetry;
using Fim.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fim.Manager.Pipeline;

/// <summary>
/// Listens for JetStream's max-deliveries advisory of the fim-managers consumer: an event the server gave up on
/// (delivered MaxDeliver times and never settled, e.g. the manager holding its last delivery died) is read back from
/// FIM_EVENTS by sequence and copied to fim.deadletter.max-deliveries, so nothing leaves the pipeline silently. One
/// manager of the pool takes each advisory (queue group); the copy's message id makes a second copy a duplicate.
/// Advisories are plain NATS messages: one sent while no manager is connected is not seen (the event stays in FIM_EVENTS).
/// </summary>
public sealed class MaxDeliveriesWatch(NatsConnector nats, Readiness readiness, ManagerMetrics metrics, ManagerRetries retries,
    ILogger<MaxDeliveriesWatch> log) : BackgroundService
{
    public static string AdvisorySubject => $"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{Subjects.EventsStream}.{Subjects.ManagersConsumer}";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => retries.MaxDeliveries.KeepRunningAsync(async token =>
    {
        try
        {
            var connection = await nats.ConnectedAsync(token);
            var js = await nats.JetStreamAsync(token);
            await using var sub = await connection.SubscribeCoreAsync(AdvisorySubject, Subjects.ManagersConsumer, NatsRawSerializer<byte[]>.Default,
                cancellationToken: token);
            readiness.MaxDeliveriesWatched = true;
            await foreach (var advisory in sub.Msgs.ReadAllAsync(token))
            {
                if (Parse(advisory.Data) is { } seq)
                {
                    await DeadLetterAsync(js, seq.Sequence, seq.Deliveries, token);
                }
            }
        }
        finally
        {
            readiness.MaxDeliveriesWatched = false;
        }
    }, stoppingToken);

    private async Task DeadLetterAsync(INatsJSContext js, ulong sequence, ulong deliveries, CancellationToken cancellationToken)
    {
        var detail = $"JetStream stopped delivering it after {deliveries} deliveries without an ack (consumer {Subjects.ManagersConsumer})";
        string subject;
        byte[] data;
        NatsHeaders? original;
        try
        {
            var stream = await js.GetStreamAsync(Subjects.EventsStream, cancellationToken: cancellationToken);
            var msg = await stream.GetDirectAsync(new StreamMsgGetRequest { Seq = sequence }, NatsRawSerializer<byte[]>.Default, cancellationToken);
            // A direct get answers on an inbox; the stored subject is in the Nats-Subject header.
            subject = msg.Headers is { } h && h.TryGetLastValue("Nats-Subject", out var stored) ? stored : msg.Subject;
            (data, original) = (msg.Data ?? [], msg.Headers);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            (subject, data, original) = (Subjects.EventsStream, [], null);
            detail += "; the message is no longer in the stream";
        }
        var problem = new DeadLetter(DeadLetter.MaxDeliveries, detail);
        var headers = DeadLetterCopy.ToNats(problem.Headers(subject, Subjects.EventsStream, sequence, deliveries));
        if (original is not null && original.TryGetLastValue(ManagerTracing.TraceParent, out var traceParent))
        {
            headers[ManagerTracing.TraceParent] = traceParent;
        }
        var ack = await js.PublishAsync(Subjects.DeadLetter(problem.Reason), data, NatsRawSerializer<byte[]>.Default,
            new NatsJSPubOpts { MsgId = DeadLetter.MessageId(Subjects.EventsStream, sequence) }, headers, cancellationToken);
        ack.EnsureSuccess();
        if (!ack.Duplicate)
        {
            metrics.DeadLetters.WithLabels(problem.Reason).Inc();
        }
        log.LogWarning("Dead-lettered {Subject} seq {Sequence}: {Reason}: {Detail}", subject, sequence, problem.Reason, problem.Detail);
    }

    /// <summary>{"type":"io.nats.jetstream.advisory.v1.max_deliver","stream":"FIM_EVENTS","consumer":"fim-managers","stream_seq":5,"deliveries":10}.</summary>
    internal static (ulong Sequence, ulong Deliveries)? Parse(byte[]? json)
    {
        if (json is null)
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            return root.TryGetProperty("stream_seq", out var seq) && seq.TryGetUInt64(out var s)
                ? (s, root.TryGetProperty("deliveries", out var d) && d.TryGetUInt64(out var n) ? n : 0)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

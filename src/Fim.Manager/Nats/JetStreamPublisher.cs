using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using NATS.Client.Core;

namespace Fim.Manager.Nats;

/// <summary>
/// What JetStream answered to one publish: stored (perhaps as a duplicate of an earlier one) or refused, with JetStream's
/// error code when it said one (for example 10071, a failed expected-last-sequence check).
/// </summary>
public readonly record struct PublishAck(ulong Sequence, bool Duplicate, string? Error, int ErrorCode = 0)
{
    public bool Stored => Error is null;
}

/// <summary>Told JetStream's answer to one publish, on the publisher's reply loop: keep it short and never block.</summary>
public interface IPublishCallback
{
    void OnPublished(PublishAck ack);
}

/// <summary>
/// Asynchronous JetStream publishing: many publishes on the wire at once, each answered on one shared wildcard inbox
/// and matched by a token in the reply subject. NATS.Net's own concurrent publish makes a subscription per message,
/// which caps a 2-core machine near 20k/s; this keeps one subscription and one small object per publish, and reads
/// each answer where it arrives (the connection's read loop) instead of queueing it for another thread. An answer that
/// does not come within the timeout (connection lost, server restarting) fails the publish, and the caller retries.
/// </summary>
public sealed class JetStreamPublisher : IAsyncDisposable
{
    private const string MsgIdHeader = "Nats-Msg-Id";
    private static readonly NatsRawSerializer<ReadOnlyMemory<byte>> RawMemory = NatsRawSerializer<ReadOnlyMemory<byte>>.Default;

    private readonly INatsConnection _connection;
    private readonly TimeSpan _timeout;
    private readonly string _inboxPrefix;
    private PubAckSubscription? _replies;
    private readonly ConcurrentDictionary<long, (IPublishCallback Callback, long Started)> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sweeper;
    private long _next;

    private JetStreamPublisher(INatsConnection connection, TimeSpan timeout, string inboxPrefix)
    {
        _connection = connection;
        _timeout = timeout;
        _inboxPrefix = inboxPrefix;
        _sweeper = Task.Run(SweepAsync);
    }

    public int InFlight => _pending.Count;

    public static async Task<JetStreamPublisher> StartAsync(INatsConnection connection, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Under _INBOX (which reply permissions usually allow) but not under the connection's own inbox prefix: NATS.Net
        // routes that one through its request muxer, which matches exact subjects only, so a wildcard there hears nothing.
        var prefix = "_INBOX.fim-pub-" + Guid.NewGuid().ToString("N");
        var publisher = new JetStreamPublisher(connection, timeout, prefix + ".");
        await connection.AddSubAsync(publisher._replies = new PubAckSubscription(connection, prefix + ".*", publisher), cancellationToken);
        return publisher;
    }

    /// <summary>Writes the publish and returns at once; the task completes with JetStream's answer.</summary>
    public async ValueTask<Task<PublishAck>> PublishAsync(string subject, ReadOnlyMemory<byte> payload, string? msgId, NatsHeaders? headers,
        CancellationToken cancellationToken)
    {
        var callback = new TaskCallback();
        await PublishAsync(subject, payload, msgId, headers, callback, cancellationToken);
        return callback.Completion.Task;
    }

    /// <summary>
    /// Writes the publish and returns at once; <paramref name="callback"/> hears JetStream's answer (or the timeout).
    /// <paramref name="payload"/> is copied out by the time the returned task completes, so a pooled buffer may go back then.
    /// </summary>
    public ValueTask PublishAsync(string subject, ReadOnlyMemory<byte> payload, string? msgId, NatsHeaders? headers, IPublishCallback callback,
        CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _next);
        _pending[id] = (callback, Stopwatch.GetTimestamp());
        if (msgId is not null)
        {
            headers ??= [];
            headers[MsgIdHeader] = msgId;
        }
        try
        {
            var write = _connection.PublishAsync(subject, payload, headers, _inboxPrefix + id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                RawMemory, cancellationToken: cancellationToken);
            return write.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitWriteAsync(write, id);
        }
        catch
        {
            _pending.TryRemove(id, out _);
            throw;
        }
    }

    private async ValueTask AwaitWriteAsync(ValueTask write, long id)
    {
        try
        {
            await write;
        }
        catch
        {
            _pending.TryRemove(id, out _);
            throw;
        }
    }

    /// <summary>One answer, on the connection's read loop: no channel, no copy of the payload, no thread hop.</summary>
    private void OnReply(string subject, ReadOnlySequence<byte>? headers, ReadOnlySequence<byte> payload)
    {
        var dot = subject.LastIndexOf('.');
        if (dot < 0 || !long.TryParse(subject.AsSpan(dot + 1), out var id) || !_pending.TryRemove(id, out var pending))
        {
            return;
        }
        Complete(pending.Callback, IsNoResponders(headers, payload)
            ? new PublishAck(0, false, "no stream listens on the subject (no responders)")
            : payload.IsSingleSegment ? Parse(payload.FirstSpan) : Parse(payload.ToArray()));
    }

    /// <summary>The server's "NATS/1.0 503" status with an empty body: nothing subscribes to (no stream captures) the subject.</summary>
    private static bool IsNoResponders(ReadOnlySequence<byte>? headers, ReadOnlySequence<byte> payload)
    {
        if (headers is not { } h || !payload.IsEmpty)
        {
            return false;
        }
        Span<byte> status = stackalloc byte[12];
        var length = (int)Math.Min(h.Length, status.Length);
        h.Slice(0, length).CopyTo(status);
        return status[..length].StartsWith("NATS/1.0 503"u8);
    }

    private async Task SweepAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Clamp(_timeout.TotalMilliseconds / 4, 50, 1000)));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                foreach (var (id, pending) in _pending)
                {
                    if (Stopwatch.GetElapsedTime(pending.Started) > _timeout && _pending.TryRemove(id, out _))
                    {
                        Complete(pending.Callback, new PublishAck(0, false, $"no answer from JetStream within {_timeout}"));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>{"stream":"S","seq":5,"duplicate":true} or {"error":{"code":503,"err_code":10077,"description":"..."}}.</summary>
    internal static PublishAck Parse(ReadOnlySpan<byte> json)
    {
        if (json.IsEmpty)
        {
            return new PublishAck(0, false, "empty answer");
        }
        try
        {
            var reader = new Utf8JsonReader(json);
            ulong seq = 0;
            var duplicate = false;
            string? error = null;
            var errorCode = 0;
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("seq"u8))
                {
                    reader.Read();
                    seq = reader.GetUInt64();
                }
                else if (reader.ValueTextEquals("duplicate"u8))
                {
                    reader.Read();
                    duplicate = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    using var doc = JsonDocument.ParseValue(ref reader);
                    error = doc.RootElement.TryGetProperty("description", out var d) ? d.GetString() ?? "error" : doc.RootElement.GetRawText();
                    if (doc.RootElement.TryGetProperty("err_code", out var code) && code.TryGetInt32(out var number))
                    {
                        errorCode = number;
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            return new PublishAck(seq, duplicate, error, errorCode);
        }
        catch (JsonException e)
        {
            return new PublishAck(0, false, "unreadable answer: " + e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await (_replies?.UnsubscribeAsync() ?? ValueTask.CompletedTask);
        }
        catch (Exception e) when (e is NatsException or ObjectDisposedException)
        {
        }
        await _sweeper;
        foreach (var (id, pending) in _pending)
        {
            if (_pending.TryRemove(id, out _))
            {
                Complete(pending.Callback, new PublishAck(0, false, "publisher stopped"));
            }
        }
        await (_replies?.DisposeAsync() ?? ValueTask.CompletedTask);
        _stop.Dispose();
    }

    private static void Complete(IPublishCallback callback, PublishAck ack)
    {
        try
        {
            callback.OnPublished(ack);
        }
        catch (Exception e)
        {
            // A callback bug must not stop the reply loop: every other publish would time out.
            Trace.TraceError($"publish callback failed: {e}");
        }
    }

    /// <summary>The wildcard inbox every answer arrives on, handing each straight to the publisher.</summary>
    private sealed class PubAckSubscription(INatsConnection connection, string subject, JetStreamPublisher publisher)
        : NatsSubBase(connection, connection.SubscriptionManager, subject, queueGroup: null, opts: null)
    {
        protected override ValueTask ReceiveInternalAsync(string subject, string? replyTo, ReadOnlySequence<byte>? headersBuffer,
            ReadOnlySequence<byte> payloadBuffer)
        {
            publisher.OnReply(subject, headersBuffer, payloadBuffer);
            return ValueTask.CompletedTask;
        }

        protected override void TryComplete()
        {
        }
    }

    private sealed class TaskCallback : IPublishCallback
    {
        public TaskCompletionSource<PublishAck> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnPublished(PublishAck ack) => Completion.TrySetResult(ack);
    }
}

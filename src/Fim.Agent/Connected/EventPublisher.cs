using System.Diagnostics;
using System.Text;
using Fim.Agent.Telemetry;
using Fim.Contracts;
using Fim.Core.Baseline;
using Fim.Nats;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.Agent.Connected;

/// <summary>
/// Drains the outboxes into JetStream: takes up to publishMaxInFlight of the oldest events, publishes them at once
/// (each with Nats-Msg-Id = its event id and a traceparent header) to fim.events.&lt;agentId&gt;, then acknowledges the
/// acked ones in their stores (one fsync per store per round). Anything not acked stays and is retried with backoff,
/// for as long as NATS or the FIM_EVENTS stream is away; JetStream's duplicate window turns a retry of an event it
/// already stored into a no-op.
/// </summary>
public sealed class EventPublisher(
    NatsConnection nats,
    StateStores stores,
    Outbox outbox,
    AgentIdentity identity,
    EventSigning signing,
    IOptions<AgentOptions> options,
    AgentRetries retries,
    ILogger<EventPublisher> logger) : BackgroundService
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);

    private readonly int _maxInFlight = options.Value.PublishMaxInFlight;
    private NatsJSContext? _js;
    private Task? _connecting;

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        _js = new NatsJSContext(nats);
        while (!ct.IsCancellationRequested)
        {
            var batch = Collect();
            AgentMetrics.OutboxDepth.Set(outbox.Depth);
            if (batch.Count == 0)
            {
                stores.CloseIdle();
                await outbox.WaitAsync(IdlePoll, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }
            // A round JetStream does not fully acknowledge is retried with backoff (a fresh batch from the outbox each time).
            List<(BaselineStore Store, OutboxEvent Event)>? first = batch;
            await retries.Publish.UntilDoneAsync(token => PublishRoundAsync(Interlocked.Exchange(ref first, null) ?? Collect(), token), ct);
        }
    }

    /// <summary>Publishes what the outbox holds; throws <see cref="NotAcknowledgedException"/> when some events stay.</summary>
    private async ValueTask PublishRoundAsync(List<(BaselineStore Store, OutboxEvent Event)> batch, CancellationToken ct)
    {
        if (batch.Count == 0)
        {
            return;
        }
        if (nats.ConnectionState == NatsConnectionState.Closed && _connecting is not { IsCompleted: false })
        {
            // Not awaited: with RetryOnInitialConnect the first connect waits for the server, and the round must
            // still fail (counted, backed off) while NATS is away, not hang silently with a growing outbox.
            _connecting = ConnectAsync();
        }
        var results = await Task.WhenAll(batch.Select(item => PublishAsync(item.Event, ct)));
        var failed = 0;
        string? problem = null;
        foreach (var group in batch.Zip(results).GroupBy(x => x.First.Store))
        {
            var acked = group.Where(x => x.Second.Error is null).Select(x => x.First.Event.Sequence).ToList();
            // A scan record that did not go (no FIM_SCANS yet: managers older than the agent) waits apart, so it never
            // holds the events back with the round's backoff.
            var scansFailed = group.Where(x => x.Second.Error is not null && IsScan(x.First.Event)).Select(x => x.Second.Error).ToList();
            if (scansFailed.Count > 0)
            {
                PauseScans(scansFailed[0]!);
            }
            failed += group.Count() - acked.Count - scansFailed.Count;
            problem ??= group.Select(x => x.Second.Error).FirstOrDefault(e => e is not null);
            if (acked.Count > 0)
            {
                try
                {
                    group.Key.Acknowledge(acked);
                }
                catch (Exception e) when (e is BaselineWriteException or InvalidOperationException or ObjectDisposedException)
                {
                    // Still in the outbox: sent again later, and deduplicated by JetStream within its window.
                    logger.LogError("cannot record the delivery of {Count} events in {Dir}: {Error}", acked.Count, group.Key.StateDirectory, e.Message);
                }
            }
        }
        AgentMetrics.OutboxDepth.Set(outbox.Depth);
        if (failed > 0)
        {
            throw new NotAcknowledgedException($"{failed} of {batch.Count} events not acknowledged by JetStream ({problem}); {outbox.Depth} wait in the outbox");
        }
    }

    private sealed class NotAcknowledgedException(string message) : Exception(message);

    /// <summary>Connects (the client then reconnects by itself); until it is connected, rounds fail like a failed publish.</summary>
    private async Task ConnectAsync()
    {
        try
        {
            await nats.ConnectAsync();
        }
        catch (Exception e) when (e is NatsException or TimeoutException or ObjectDisposedException)
        {
            logger.LogDebug("cannot connect to NATS yet: {Error}", e.Message);
        }
    }

    private static bool IsScan(OutboxEvent e) => e.MessageId.StartsWith(ScanRecord.MessageIdPrefix, StringComparison.Ordinal);

    private static readonly TimeSpan ScanRetry = TimeSpan.FromSeconds(10);
    private long _scansPausedUntil;
    private bool _scanWarned;

    private void PauseScans(string error)
    {
        Interlocked.Exchange(ref _scansPausedUntil, Environment.TickCount64 + (long)ScanRetry.TotalMilliseconds);
        if (!_scanWarned)
        {
            _scanWarned = true;
            logger.LogWarning("scan records wait in the outbox: {Error}; retrying every {Retry}", error, ScanRetry);
        }
    }

    private List<(BaselineStore Store, OutboxEvent Event)> Collect()
    {
        var scansPaused = Environment.TickCount64 < Interlocked.Read(ref _scansPausedUntil);
        var batch = new List<(BaselineStore, OutboxEvent)>();
        foreach (var (_, store) in stores.Open())
        {
            if (batch.Count >= _maxInFlight)
            {
                break;
            }
            try
            {
                batch.AddRange(store.PeekPendingEvents(_maxInFlight - batch.Count).Where(e => !(scansPaused && IsScan(e))).Select(e => (store, e)));
            }
            catch (ObjectDisposedException)
            {
                // Closed meanwhile because it had nothing left.
            }
        }
        return batch;
    }

    private async Task<(bool Duplicate, string? Error)> PublishAsync(OutboxEvent e, CancellationToken ct)
    {
        if (nats.ConnectionState != NatsConnectionState.Open)
        {
            AgentMetrics.PublishFailures.WithLabels("disconnected").Inc();
            return (false, "not connected to NATS");
        }
        if (e.MessageId.StartsWith(ScanRecord.MessageIdPrefix, StringComparison.Ordinal))
        {
            return await PublishScanAsync(e, ct);
        }
        ActivityContext.TryParse(e.TraceParent, null, out var parent);
        using var activity = AgentTracing.Source.StartActivity("fim.events publish", ActivityKind.Producer, parent);
        var headers = new NatsHeaders();
        if ((activity?.Id ?? e.TraceParent) is { } traceParent)
        {
            headers["traceparent"] = traceParent;
        }
        var msgId = e.MessageId;
        try
        {
            // Signed and deduplicated over the content without publishedAt, so every retry of the event is the same message.
            var input = EventContent.SigningInput(e.Payload);
            msgId = EventContent.MessageId(e.MessageId, EventContent.Digest(input));
            if (signing.Signer is { } signer)
            {
                headers[EventContent.SignatureHeader] = signer.Sign(input);
            }
        }
        catch (FormatException ex)
        {
            logger.LogWarning("event {MessageId} has no canonical form and goes out unsigned: {Error}", e.MessageId, ex.Message);
        }
        try
        {
            var ack = await _js!.PublishAsync(identity.EventsSubject, WithPublishedAt(e.Payload), opts: new NatsJSPubOpts { MsgId = msgId, RetryAttempts = 1 },
                headers: headers, cancellationToken: ct);
            if (ack.Error is { } error)
            {
                AgentMetrics.PublishFailures.WithLabels("rejected").Inc();
                return (false, $"JetStream refused: {error.Code} {error.Description}");
            }
            AgentMetrics.Published.Inc();
            if (ack.Duplicate)
            {
                AgentMetrics.PublishDuplicates.Inc();
            }
            return (ack.Duplicate, null);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return (false, "stopping");
        }
        catch (NatsJSPublishNoResponseException)
        {
            AgentMetrics.PublishFailures.WithLabels("no-stream").Inc();
            return (false, $"no JetStream stream answers on {identity.EventsSubject} (is {Subjects.EventsStream} created, and may this agent publish there?)");
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException or OperationCanceledException)
        {
            AgentMetrics.PublishFailures.WithLabels("error").Inc();
            return (false, ex.Message);
        }
    }

    /// <summary>A scan record: to fim.scans.&lt;agentId&gt;, deduplicated by its scan id, as it was queued (not an event: not signed).</summary>
    private async Task<(bool Duplicate, string? Error)> PublishScanAsync(OutboxEvent e, CancellationToken ct)
    {
        try
        {
            var ack = await _js!.PublishAsync(identity.ScansSubject, e.Payload, opts: new NatsJSPubOpts { MsgId = e.MessageId, RetryAttempts = 1 }, cancellationToken: ct);
            if (ack.Error is { } error)
            {
                AgentMetrics.PublishFailures.WithLabels("rejected").Inc();
                return (false, $"JetStream refused the scan record: {error.Code} {error.Description}");
            }
            _scanWarned = false;
            return (ack.Duplicate, null);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return (false, "stopping");
        }
        catch (NatsJSPublishNoResponseException)
        {
            AgentMetrics.PublishFailures.WithLabels("no-stream").Inc();
            return (false, $"no JetStream stream answers on {identity.ScansSubject} (is {Subjects.ScansStream} created, and may this agent publish there?)");
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException or OperationCanceledException)
        {
            AgentMetrics.PublishFailures.WithLabels("error").Inc();
            return (false, ex.Message);
        }
    }

    /// <summary>Adds "publishedAt" to the stored event JSON (an object, so it ends with '}').</summary>
    private static byte[] WithPublishedAt(byte[] payload)
    {
        var end = Array.LastIndexOf(payload, (byte)'}');
        if (end < 1)
        {
            return payload;
        }
        var field = Encoding.UTF8.GetBytes($",\"publishedAt\":\"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffffffzzz}\"");
        return [.. payload.AsSpan(0, end), .. field, .. payload.AsSpan(end)];
    }
}

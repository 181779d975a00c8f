using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Manager.Resilience;
using Fim.Nats;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fim.Manager.Store;

/// <summary>
/// Copies FIM_SCANS into the scans table through its own durable consumer (<see cref="Subjects.ScanIndexerConsumer"/>),
/// the alert indexer's pattern at a scan record's pace: a record is acked only after its transaction committed, and a
/// redelivered one is skipped by its scan id. The agent id is the subject's (the server authenticated it); a record
/// claiming another agent, or not readable, is logged and terminated. On SQLite only the manager holding the scans'
/// indexer lock writes. Also removes scans older than Fim:Store:RetentionDays, at start and every MaintenanceInterval.
/// </summary>
public sealed class ScanIndexer(
    IScanStore store,
    IAlertStore alerts,
    IOptions<StoreOptions> options,
    NatsConnector nats,
    StreamTopology topology,
    ManagerRetries retries,
    TimeProvider time,
    ILogger<ScanIndexer> log) : BackgroundService
{
    private const int BatchSize = 100;
    private static readonly TimeSpan LockRetry = TimeSpan.FromSeconds(5);
    private readonly StoreOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Indexer)
        {
            return;
        }
        using var lease = await LeaseAsync(stoppingToken);
        await retries.Indexer.KeepRunningAsync(IndexAsync, stoppingToken);
    }

    private async Task<IDisposable?> LeaseAsync(CancellationToken cancellationToken)
    {
        if (alerts.Backend != StoreOptions.Sqlite)
        {
            return null;
        }
        while (true)
        {
            try
            {
                if (SqliteIndexerLock.TryAcquire(_options.SqlitePath + ".scans") is { } held)
                {
                    return held;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogDebug("Cannot take the scan indexer lock yet: {Error}", e.Message);
            }
            await Task.Delay(LockRetry, time, cancellationToken);
        }
    }

    private async Task RetainAsync(CancellationToken cancellationToken)
    {
        var removed = await store.RemoveScansBeforeAsync(time.GetUtcNow().AddDays(-_options.RetentionDays), cancellationToken);
        if (removed > 0)
        {
            log.LogInformation("Scan store retention removed {Count} scan records older than {Days} days", removed, _options.RetentionDays);
        }
    }

    private async ValueTask IndexAsync(CancellationToken cancellationToken)
    {
        await RetainAsync(cancellationToken);
        var nextUpkeep = time.GetUtcNow() + _options.MaintenanceInterval;
        var js = await nats.JetStreamAsync(cancellationToken);
        foreach (var stream in topology.Streams.Where(s => s.Name == Subjects.ScansStream))
        {
            await topology.EnsureStreamAsync(js, stream, cancellationToken);
        }
        await topology.EnsureConsumerAsync(js, Subjects.ScansStream, new ConsumerConfig(Subjects.ScanIndexerConsumer)
        {
            DurableName = Subjects.ScanIndexerConsumer,
            Description = "Scan record indexer",
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            AckWait = _options.AckWait,
            MaxAckPending = BatchSize * 4,
            FilterSubject = Subjects.AllScans,
            DeliverPolicy = ConsumerConfigDeliverPolicy.All,
        }, cancellationToken);
        var consumer = await js.GetConsumerAsync(Subjects.ScansStream, Subjects.ScanIndexerConsumer, cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (time.GetUtcNow() >= nextUpkeep)
            {
                await RetainAsync(cancellationToken);
                nextUpkeep = time.GetUtcNow() + _options.MaintenanceInterval;
            }
            var batch = new List<INatsJSMsg<byte[]>>(BatchSize);
            await foreach (var msg in consumer.FetchAsync(opts: new NatsJSFetchOpts { MaxMsgs = BatchSize, Expires = TimeSpan.FromSeconds(5) },
                serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: cancellationToken))
            {
                batch.Add(msg);
            }
            if (batch.Count > 0)
            {
                await WriteAsync(batch, cancellationToken);
            }
        }
    }

    private async Task WriteAsync(List<INatsJSMsg<byte[]>> batch, CancellationToken cancellationToken)
    {
        var rows = new List<StoredScan>(batch.Count);
        var keep = new List<INatsJSMsg<byte[]>>(batch.Count);
        foreach (var msg in batch)
        {
            var subjectAgent = msg.Subject.StartsWith(Subjects.ScansPrefix, StringComparison.Ordinal) ? msg.Subject[Subjects.ScansPrefix.Length..] : "";
            var record = ContractJson.ReadScan(msg.Data ?? []);
            var problem = record is null ? "not a scan record"
                : record.ScanId.Length is 0 or > 128 || !record.ScanId.All(char.IsAsciiLetterOrDigit) ? "scanId must be 1..128 letters and digits"
                : record.AgentId != subjectAgent ? $"agentId '{record.AgentId}' is not the subject's agent"
                : record.Policy.Length == 0 ? "policy is empty"
                : null;
            if (problem is not null)
            {
                log.LogError("Scan record at {Stream} sequence {Sequence} on {Subject} not stored: {Problem}", Subjects.ScansStream, msg.Metadata?.Sequence.Stream, msg.Subject, problem);
                await msg.AckTerminateAsync(cancellationToken: cancellationToken);
                continue;
            }
            keep.Add(msg);
            rows.Add(new StoredScan(record!, (long)(msg.Metadata?.Sequence.Stream ?? 0), Micros.From(msg.Metadata?.Timestamp ?? time.GetUtcNow()), msg.Data!));
        }
        var distinct = rows.DistinctBy(r => r.Record.ScanId).ToList();
        await retries.StoreScans.ExecuteAsync(async token => await store.InsertScansAsync(distinct, token), cancellationToken);
        foreach (var msg in keep)
        {
            await msg.AckAsync(cancellationToken: cancellationToken);
        }
    }
}

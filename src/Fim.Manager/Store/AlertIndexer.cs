using System.Text.Json;
using System.Threading.Channels;
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
/// Copies FIM_ALERTS into the alert store through its own durable consumer (<see cref="Subjects.IndexerConsumer"/>,
/// from the start of the stream the first time). Alerts go in batches, one transaction each, and are acked only after
/// the commit: a crash before it leaves them unacked and JetStream redelivers them, and the store skips an alert id it
/// already holds, so nothing is lost and nothing stored twice. On PostgreSQL every manager may index (the consumer
/// spreads batches); on SQLite only the holder of <see cref="SqliteIndexerLock"/>. Also runs retention and partition upkeep.
/// </summary>
public sealed class AlertIndexer(
    IAlertStore store,
    IOptions<StoreOptions> options,
    NatsConnector nats,
    StreamTopology topology,
    ManagerRetries retries,
    TimeProvider time,
    ILogger<AlertIndexer> log) : BackgroundService
{
    private static readonly TimeSpan LockRetry = TimeSpan.FromSeconds(5);
    private readonly StoreOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Indexer)
        {
            log.LogInformation("Alert store indexer is off on this manager (Fim:Store:Indexer=false); it serves queries from the {Backend} store", store.Backend);
            return;
        }
        using var lease = await LeaseAsync(stoppingToken);
        using var maintenance = new CancellationTokenSource();
        var upkeep = MaintainLoopAsync(CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, maintenance.Token).Token);
        try
        {
            await retries.Indexer.KeepRunningAsync(IndexAsync, stoppingToken);
        }
        finally
        {
            await maintenance.CancelAsync();
            await upkeep.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private async Task<IDisposable?> LeaseAsync(CancellationToken cancellationToken)
    {
        if (store.Backend != StoreOptions.Sqlite)
        {
            log.LogInformation("Indexing {Stream} into PostgreSQL; any number of managers may index alongside this one", Subjects.AlertsStream);
            return null;
        }
        var warned = false;
        while (true)
        {
            IDisposable? held;
            try
            {
                held = SqliteIndexerLock.TryAcquire(_options.SqlitePath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogError("Cannot open the SQLite store's directory {Directory} ({Error}); alerts are not indexed until it is writable (Fim:Store:DataDirectory, or backend postgres)",
                    _options.DataDirectory, e.Message);
                await Task.Delay(LockRetry, time, cancellationToken);
                continue;
            }
            if (held is not null)
            {
                log.LogInformation("This manager is the one that indexes {Stream} into the SQLite store {File} (SQLite has exactly one indexing manager)",
                    Subjects.AlertsStream, _options.SqlitePath);
                return held;
            }
            if (!warned)
            {
                log.LogWarning("Another manager indexes the SQLite store {File}; this one serves queries only and takes over if that one stops", _options.SqlitePath);
                warned = true;
            }
            await Task.Delay(LockRetry, time, cancellationToken);
        }
    }

    private async ValueTask IndexAsync(CancellationToken cancellationToken)
    {
        await store.MigrateAsync(cancellationToken);
        await MaintainOnceAsync(cancellationToken);
        var js = await nats.JetStreamAsync(cancellationToken);
        var consumer = await topology.DurableAsync(js, Subjects.AlertsStream, DurableConsumer(_options, Subjects.IndexerConsumer), cancellationToken);
        var inbox = Channel.CreateBounded<INatsJSMsg<byte[]>>(new BoundedChannelOptions(_options.BatchSize * 2) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pump = PumpAsync(consumer, inbox.Writer, stop.Token);
        try
        {
            var batch = new List<INatsJSMsg<byte[]>>(_options.BatchSize);
            while (await inbox.Reader.WaitToReadAsync(cancellationToken))
            {
                Drain(inbox.Reader, batch);
                if (batch.Count < _options.BatchSize && _options.BatchDelay > TimeSpan.Zero)
                {
                    await Task.Delay(_options.BatchDelay, time, cancellationToken);
                    Drain(inbox.Reader, batch);
                }
                await WriteAsync(batch, cancellationToken);
                batch.Clear();
            }
            await pump;
        }
        finally
        {
            await stop.CancelAsync();
            await pump.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>The indexer's durable consumer on FIM_ALERTS, named <paramref name="name"/> (the store bench's floor takes its twin).</summary>
    public static ConsumerConfig DurableConsumer(StoreOptions options, string name) => new(name)
    {
        DurableName = name,
        Description = "Alert store indexer",
        AckPolicy = ConsumerConfigAckPolicy.Explicit,
        AckWait = options.AckWait,
        MaxAckPending = Math.Max(options.BatchSize * 4, 1000),
        FilterSubject = Subjects.AllAlerts,
        DeliverPolicy = ConsumerConfigDeliverPolicy.All,
    };

    /// <summary>How much the indexer pulls ahead: two batches.</summary>
    public static NatsJSConsumeOpts ConsumeOptions(StoreOptions options) => new() { MaxMsgs = options.BatchSize * 2 };

    private void Drain(ChannelReader<INatsJSMsg<byte[]>> reader, List<INatsJSMsg<byte[]>> batch)
    {
        while (batch.Count < _options.BatchSize && reader.TryRead(out var msg))
        {
            batch.Add(msg);
        }
    }

    private async Task PumpAsync(INatsJSConsumer consumer, ChannelWriter<INatsJSMsg<byte[]>> writer, CancellationToken cancellationToken)
    {
        Exception? error = null;
        try
        {
            await foreach (var msg in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, ConsumeOptions(_options), cancellationToken))
            {
                await writer.WriteAsync(msg, cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            error = e;
        }
        finally
        {
            // A failed consume ends the batch loop with its error, and the retry pipeline starts over.
            writer.TryComplete(error);
        }
    }

    /// <summary>Stores the batch (retrying until the store takes it), then acks; unreadable alerts are terminated.</summary>
    private async Task WriteAsync(List<INatsJSMsg<byte[]>> batch, CancellationToken cancellationToken)
    {
        var rows = new List<StoredAlert>(batch.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stored = new List<INatsJSMsg<byte[]>>(batch.Count);
        foreach (var msg in batch)
        {
            AlertIndexFields? alert;
            try
            {
                alert = JsonSerializer.Deserialize(msg.Data ?? [], ContractJson.Default.AlertIndexFields);
            }
            catch (JsonException)
            {
                alert = null;
            }
            if (alert is null || alert.AlertId.Length == 0)
            {
                log.LogError("Unreadable alert at {Stream} sequence {Sequence}: not stored", Subjects.AlertsStream, msg.Metadata?.Sequence.Stream);
                await msg.AckTerminateAsync(cancellationToken: cancellationToken);
                continue;
            }
            stored.Add(msg);
            if (seen.Add(alert.AlertId))
            {
                rows.Add(StoredAlert.From(alert, msg.Data ?? [], msg.Metadata?.Sequence.Stream ?? 0, msg.Metadata?.Timestamp ?? time.GetUtcNow()));
            }
        }
        await retries.StoreAlerts.ExecuteAsync(async token => await store.InsertAsync(rows, token), cancellationToken);
        foreach (var msg in stored)
        {
            await msg.AckAsync(cancellationToken: cancellationToken);
        }
    }

    private async Task MaintainLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.MaintenanceInterval, time, cancellationToken);
                await MaintainOnceAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning("Alert store upkeep failed ({Error}: {Message}); next try in {Interval}", e.GetType().Name, e.Message, _options.MaintenanceInterval);
            }
        }
    }

    private async Task MaintainOnceAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var removed = await store.MaintainAsync(now.AddDays(-_options.RetentionDays), now, cancellationToken);
        if (removed > 0)
        {
            log.LogInformation("Alert store retention removed {Count} alerts older than {Days} days", removed, _options.RetentionDays);
        }
    }
}

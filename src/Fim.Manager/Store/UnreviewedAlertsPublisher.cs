using System.Collections.Concurrent;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Nats;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Store;

/// <summary>
/// Keeps KV fim-unreviewed-alerts in step with the store, for the operator's FimNodeStatus objects: every
/// <see cref="StoreOptions.UnreviewedInterval"/> it counts each agent's unreviewed alerts at level
/// <see cref="UnreviewedAlerts.HighLevel"/> and above (the hourly rollup less the reviewed ones, so a pass costs two
/// small queries, not a scan), writes an agent's key only when its count changed and deletes it when none are left.
/// Runs on the managers that index; several doing it at once write the same figures.
/// </summary>
public sealed class UnreviewedAlertsPublisher(
    IAlertStore store,
    IOptions<StoreOptions> options,
    IOptions<PipelineOptions> pipeline,
    NatsConnector nats,
    TimeProvider time,
    ILogger<UnreviewedAlertsPublisher> log) : BackgroundService
{
    // Wide enough that every stored alert falls in the one bucket that starts at the epoch.
    private static readonly TimeSpan OneBucket = TimeSpan.FromDays(365 * 200);
    private readonly ConcurrentDictionary<string, long> _published = new(StringComparer.Ordinal);
    private INatsKVStore? _bucket;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Indexer || o.UnreviewedInterval <= TimeSpan.Zero)
        {
            return;
        }
        using var timer = new PeriodicTimer(o.UnreviewedInterval, time);
        do
        {
            try
            {
                await PublishAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                _bucket = null; // reopened (and re-read) next time: NATS or the store was away
                log.LogWarning("Counting unreviewed alerts for KV {Bucket}: {Error}; trying again in {Interval}", Subjects.UnreviewedAlertsBucket, e.Message, o.UnreviewedInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass; returns how many keys it wrote or deleted.</summary>
    public async Task<int> PublishAsync(CancellationToken ct)
    {
        var kv = _bucket ??= await OpenAsync(ct);
        var query = new CountQuery(new AlertQuery { MinLevel = UnreviewedAlerts.HighLevel, ReviewState = ReviewStates.New }, CountKey.Agent, OneBucket);
        var counts = (await store.CountAsync(query, ct)).GroupBy(r => r.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(r => r.Count), StringComparer.Ordinal);
        var changes = 0;
        foreach (var (agent, count) in counts.Where(c => c.Value > 0 && Subjects.IsValidAgentId(c.Key)))
        {
            if (_published.TryGetValue(agent, out var was) && was == count)
            {
                continue;
            }
            var value = new UnreviewedAlerts { AgentId = agent, MinLevel = UnreviewedAlerts.HighLevel, Count = count, CountedAt = time.GetUtcNow() };
            await kv.PutAsync(agent, ContractJson.ToUtf8(value), serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: ct);
            _published[agent] = count;
            changes++;
        }
        foreach (var agent in _published.Keys.Where(a => counts.GetValueOrDefault(a) <= 0).ToList())
        {
            await kv.DeleteAsync(agent, cancellationToken: ct);
            _published.TryRemove(agent, out _);
            changes++;
        }
        return changes;
    }

    /// <summary>Opens the bucket and reads what is there, so a restarted manager rewrites only what changed.</summary>
    private async Task<INatsKVStore> OpenAsync(CancellationToken ct)
    {
        var kv = await FimBuckets.OpenOrCreateAsync(await nats.KeyValueAsync(ct), Subjects.UnreviewedAlertsBucket, pipeline.Value.Replicas, ct);
        _published.Clear();
        await foreach (var key in kv.GetKeysAsync(cancellationToken: ct))
        {
            var entry = await kv.TryGetEntryAsync<byte[]>(key, serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: ct);
            if (entry.Success && entry.Value.Value is { } data && ContractJson.ReadUnreviewedAlerts(data) is { } u)
            {
                _published[key] = u.Count;
            }
        }
        return kv;
    }
}

using System.Collections.Concurrent;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Telemetry;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Agents;

/// <summary>
/// The agents known from their heartbeats: a watch on KV fim-agents kept in memory (a cache, not state: any manager
/// rebuilds it from the bucket). Agents create the bucket; until it exists every agent is unknown.
/// </summary>
public sealed class AgentDirectory(NatsConnector nats, Readiness readiness, ManagerMetrics metrics, ILogger<AgentDirectory> log) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, AgentRecord> _agents = new(StringComparer.Ordinal);

    public bool TryGet(string agentId, out AgentRecord agent) => _agents.TryGetValue(agentId, out agent!);

    public IReadOnlyList<AgentRecord> All => [.. _agents.Values.OrderBy(a => a.AgentId, StringComparer.Ordinal)];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var kv = await nats.KeyValueAsync(stoppingToken);
                INatsKVStore store;
                try
                {
                    store = await kv.GetStoreAsync(Subjects.AgentsBucket, stoppingToken);
                }
                catch (Exception e) when (e is NatsKVException or NatsJSApiException)
                {
                    // No bucket yet: no agent has ever sent a heartbeat. Nothing to wait for.
                    readiness.AgentsLoaded = true;
                    await Task.Delay(RetryDelay, stoppingToken);
                    continue;
                }
                await WatchAsync(store, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning("Watch of KV {Bucket} failed: {Error}; retrying", Subjects.AgentsBucket, e.Message);
                await Task.Delay(RetryDelay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task WatchAsync(INatsKVStore store, CancellationToken cancellationToken)
    {
        var opts = new NatsKVWatchOpts
        {
            OnNoData = _ =>
            {
                readiness.AgentsLoaded = true;
                return ValueTask.FromResult(true);
            },
        };
        await foreach (var entry in store.WatchAsync(NatsRawSerializer<byte[]>.Default, opts, cancellationToken))
        {
            if (entry.Operation is NatsKVOperation.Del or NatsKVOperation.Purge)
            {
                _agents.TryRemove(entry.Key, out _);
                metrics.AgentLastHeartbeat.RemoveLabelled(entry.Key);
            }
            else if (entry.Value is { } value)
            {
                _agents[entry.Key] = AgentRecord.Parse(entry.Key, value, entry.Created);
                metrics.AgentLastHeartbeat.WithLabels(entry.Key).Set(entry.Created.ToUnixTimeMilliseconds() / 1000.0);
            }
            if (entry.Delta == 0)
            {
                readiness.AgentsLoaded = true;
            }
        }
    }
}

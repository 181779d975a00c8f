using System.Collections.Concurrent;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Resilience;
using Fim.Manager.Telemetry;
using Fim.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Agents;

/// <summary>
/// The agents known from their heartbeats: a watch on KV fim-agents kept in memory (a cache, not state: any manager
/// rebuilds it from the bucket). Agents create the bucket; until it exists every agent is unknown.
/// </summary>
public sealed class AgentDirectory(NatsConnector nats, Readiness readiness, ManagerMetrics metrics, ManagerRetries retries) : BackgroundService
{
    private readonly ConcurrentDictionary<string, AgentRecord> _agents = new(StringComparer.Ordinal);

    public bool TryGet(string agentId, out AgentRecord agent) => _agents.TryGetValue(agentId, out agent!);

    public IReadOnlyList<AgentRecord> All => [.. _agents.Values.OrderBy(a => a.AgentId, StringComparer.Ordinal)];

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => retries.WatchAgents.KeepRunningAsync(async token =>
    {
        var kv = await nats.KeyValueAsync(token);
        INatsKVStore store;
        try
        {
            store = await kv.GetStoreAsync(Subjects.AgentsBucket, token);
        }
        catch (Exception e) when (e is NatsKVException or NatsJSApiException)
        {
            // No bucket yet: no agent has ever sent a heartbeat. Nothing to wait for; look again after the backoff.
            readiness.AgentsLoaded = true;
            throw;
        }
        await WatchAsync(store, token);
    }, stoppingToken);

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

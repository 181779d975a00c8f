using System.Collections.Concurrent;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Microsoft.Extensions.Options;
using Fim.Manager.Resilience;
using Fim.Manager.Telemetry;
using Fim.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Agents;

/// <summary>
/// The agents known from their heartbeats: a watch on KV fim-agents kept in memory (a cache, not state: any manager
/// rebuilds it from the bucket). The manager creates the bucket when it is missing (<see cref="FimBuckets"/>): agents
/// may not, and without it no heartbeat could ever be stored.
/// </summary>
public sealed class AgentDirectory(NatsConnector nats, Readiness readiness, ManagerMetrics metrics, ManagerRetries retries, IOptions<PipelineOptions> options)
    : BackgroundService
{
    private readonly ConcurrentDictionary<string, AgentRecord> _agents = new(StringComparer.Ordinal);

    public bool TryGet(string agentId, out AgentRecord agent) => _agents.TryGetValue(agentId, out agent!);

    public IReadOnlyList<AgentRecord> All => [.. _agents.Values.OrderBy(a => a.AgentId, StringComparer.Ordinal)];

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => retries.WatchAgents.KeepRunningAsync(async token =>
    {
        var kv = await nats.KeyValueAsync(token);
        var store = await FimBuckets.OpenOrCreateAsync(kv, Subjects.AgentsBucket, options.Value.Replicas, token);
        await WatchAsync(store, token);
    }, stoppingToken);

    private async Task WatchAsync(INatsKVStore store, CancellationToken cancellationToken)
    {
        var opts = FimBuckets.MirrorWatch(() => readiness.AgentsLoaded = true);
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

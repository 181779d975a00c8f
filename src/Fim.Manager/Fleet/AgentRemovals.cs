using System.Collections.Concurrent;
using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Nats;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Fleet;

/// <summary>
/// The removed agents in KV fim-agent-removals, kept in memory by a watch (a cache any manager rebuilds from the bucket).
/// </summary>
public sealed class AgentRemovals(NatsConnector nats, IOptions<PipelineOptions> pipeline, ILogger<AgentRemovals> log, TimeProvider time)
    : BackgroundService
{
    private readonly ConcurrentDictionary<string, AgentRemoval> _removals = new(StringComparer.Ordinal);
    private readonly Polly.ResiliencePipeline _restart = RetryForever.Create($"the watch of KV {Subjects.AgentRemovalsBucket}",
        RetryBackoff.Constant(TimeSpan.FromSeconds(2)), log, time);

    public IReadOnlyCollection<AgentRemoval> All => [.. _removals.Values];

    public bool TryGet(string agentId, out AgentRemoval removal) => _removals.TryGetValue(agentId, out removal!);

    /// <summary>Knows a removal at once, before the watch brings it back (the caller's next list shows it).</summary>
    internal void Remember(AgentRemoval removal) => _removals[removal.AgentId] = removal;

    internal void Forget(string agentId) => _removals.TryRemove(agentId, out _);

    public async Task<INatsKVStore> StoreAsync(CancellationToken cancellationToken) =>
        await FimBuckets.OpenOrCreateAsync(await nats.KeyValueAsync(cancellationToken), Subjects.AgentRemovalsBucket, pipeline.Value.Replicas, cancellationToken);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => _restart.KeepRunningAsync(async token =>
    {
        var store = await StoreAsync(token);
        await foreach (var entry in store.WatchAsync(NatsRawSerializer<byte[]>.Default, new NatsKVWatchOpts(), token))
        {
            if (entry.Operation is NatsKVOperation.Del or NatsKVOperation.Purge || entry.Value is not { Length: > 0 } value)
            {
                _removals.TryRemove(entry.Key, out _);
            }
            else if (Read(value) is { } removal)
            {
                _removals[entry.Key] = removal;
            }
        }
    }, stoppingToken);

    public static AgentRemoval? Read(byte[] value)
    {
        try
        {
            return JsonSerializer.Deserialize(value, ContractJson.Default.AgentRemoval);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

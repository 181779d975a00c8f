using System.Collections.Concurrent;
using Fim.Contracts;
using Fim.Nats;
using Fim.Operator.Controllers.Policy;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Fim.Operator.Nats;

/// <summary>Opens (creating when missing, with the settings of <see cref="FimBuckets"/>) the two KV buckets the operator uses.</summary>
public static class NatsBuckets
{
    public static Task<INatsKVStore> OpenAsync(NatsConnection nats, string bucket, CancellationToken ct) =>
        FimBuckets.OpenOrCreateAsync(new NatsKVContext(new NatsJSContext(nats)), bucket, replicas: 1, ct);
}

/// <summary>KV fim-policies.</summary>
public sealed class NatsPolicyStore(INatsKVStore bucket) : IPolicyStore
{
    public async Task<byte[]?> GetAsync(string key, CancellationToken ct)
    {
        try
        {
            var entry = await bucket.GetEntryAsync<byte[]>(key, cancellationToken: ct);
            return entry.Value;
        }
        catch (NatsKVKeyNotFoundException)
        {
            return null;
        }
        catch (NatsKVKeyDeletedException)
        {
            return null;
        }
    }

    public async Task PutAsync(string key, byte[] value, CancellationToken ct) => await bucket.PutAsync(key, value, cancellationToken: ct);

    public async Task DeleteAsync(string key, CancellationToken ct) => await bucket.DeleteAsync(key, cancellationToken: ct);

    public async Task<IReadOnlyList<string>> KeysAsync(CancellationToken ct)
    {
        var keys = new List<string>();
        await foreach (var key in bucket.GetKeysAsync(cancellationToken: ct))
        {
            keys.Add(key);
        }

        return keys;
    }
}

/// <summary>Watches KV fim-agents and keeps the latest heartbeat per agent.</summary>
public sealed class NatsAgentDirectory(INatsKVStore bucket, ILogger logger) : IAgentDirectory
{
    private readonly ConcurrentDictionary<string, Heartbeat> _agents = new();

    public IReadOnlyCollection<Heartbeat> Agents => [.. _agents.Values];

    public event Action? Changed;

    public Task RunAsync(CancellationToken ct) => OperatorRetries.WatchAgents(logger).KeepRunningAsync(async token =>
    {
        await foreach (var entry in bucket.WatchAsync<byte[]>(">", opts: new NatsKVWatchOpts { IncludeHistory = false }, cancellationToken: token))
        {
            if (entry.Operation is NatsKVOperation.Del or NatsKVOperation.Purge || entry.Value is null)
            {
                _agents.TryRemove(entry.Key, out _);
            }
            else if (ContractJson.ReadHeartbeat(entry.Value) is { } hb)
            {
                _agents[entry.Key] = hb;
            }
            else
            {
                logger.LogDebug("KV {Bucket}/{Key}: not a heartbeat", Subjects.AgentsBucket, entry.Key);
                continue;
            }

            Changed?.Invoke();
        }
    }, ct);
}

using Fim.Contracts;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Fim.Nats;

/// <summary>
/// The one definition of the KV buckets FIM uses (fim-agents, fim-policies), and how any process that needs one opens
/// it: whoever runs first (manager or operator) creates it, idempotently, with these settings, so the two cannot
/// disagree. Agents only open them: their NATS permissions do not allow creating streams.
/// </summary>
public static class FimBuckets
{
    private const int StreamNameInUse = 10058;

    /// <summary>
    /// Options for a watch that mirrors a bucket for the process's life: <paramref name="loaded"/> runs once the entries
    /// present at the start have come (at once for an empty bucket), and the watch goes on for the changes after.
    /// </summary>
    public static NatsKVWatchOpts MirrorWatch(Action loaded) => new()
    {
        OnNoData = _ =>
        {
            loaded();
            // True would end the enumeration: an empty bucket's watch would stop at once and miss its first entry.
            return ValueTask.FromResult(false);
        },
    };

    /// <summary>Every bucket FIM creates.</summary>
    public static IReadOnlyList<string> All { get; } = [Subjects.AgentsBucket, Subjects.PoliciesBucket, Subjects.MaintenanceBucket, Subjects.AgentRemovalsBucket, Subjects.UnreviewedAlertsBucket];

    /// <summary>
    /// One value per key (the latest heartbeat, the current policy document): readers watch the latest, and older values
    /// are history nobody reads. File storage: a NATS restart keeps both.
    /// </summary>
    public static NatsKVConfig Config(string bucket, int replicas = 1) => bucket switch
    {
        Subjects.AgentsBucket => new NatsKVConfig(bucket)
        {
            Description = "FIM agent heartbeats, key <agentId> (written by agents)",
            History = 1,
            Storage = NatsKVStorageType.File,
            NumberOfReplicas = replicas,
        },
        Subjects.PoliciesBucket => new NatsKVConfig(bucket)
        {
            Description = "FIM compiled policy documents, key <namespace>.<name> (written by the operator)",
            History = 1,
            Storage = NatsKVStorageType.File,
            NumberOfReplicas = replicas,
        },
        Subjects.MaintenanceBucket => new NatsKVConfig(bucket)
        {
            Description = "FIM maintenance windows, key <windowId> (written by managers through the API)",
            // Ending a window rewrites its key; the previous values say who opened and ended it.
            History = 5,
            Storage = NatsKVStorageType.File,
            NumberOfReplicas = replicas,
        },
        Subjects.AgentRemovalsBucket => new NatsKVConfig(bucket)
        {
            Description = "FIM agents removed from fim-agents, key <agentId>: who removed them, when, their last heartbeat (written by managers)",
            // An agent removed, back, and removed again: the earlier removals stay readable for a while.
            History = 5,
            Storage = NatsKVStorageType.File,
            NumberOfReplicas = replicas,
        },
        Subjects.UnreviewedAlertsBucket => new NatsKVConfig(bucket)
        {
            Description = "FIM unreviewed high-level alerts, key <agentId> (written by managers from their store, read by the operator)",
            History = 1,
            Storage = NatsKVStorageType.File,
            NumberOfReplicas = replicas,
        },
        _ => throw new ArgumentException($"'{bucket}' is not a FIM bucket ({string.Join(", ", All)})", nameof(bucket)),
    };

    /// <summary>Opens <paramref name="bucket"/>, creating it with <see cref="Config"/> when missing; safe when several processes race.</summary>
    public static async Task<INatsKVStore> OpenOrCreateAsync(INatsKVContext kv, string bucket, int replicas, CancellationToken cancellationToken)
    {
        try
        {
            return await kv.GetStoreAsync(bucket, cancellationToken);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
        }
        try
        {
            // A create with the identical config succeeds even if another process created it a moment ago.
            return await kv.CreateStoreAsync(Config(bucket, replicas), cancellationToken);
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == StreamNameInUse)
        {
            return await kv.GetStoreAsync(bucket, cancellationToken);
        }
    }
}

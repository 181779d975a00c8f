using System.Collections.Concurrent;
using Fim.Contracts;
using Fim.Manager.Resilience;
using Fim.Nats;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Enrollment;

/// <summary>
/// Enrolled agents' public keys: a watch on KV fim-identities kept in memory (any manager rebuilds it from the bucket),
/// which the event intake verifies signatures against, and the writes enrollment and revocation make.
/// </summary>
public sealed class IdentityDirectory(EnrollmentBuckets buckets, ManagerRetries retries, ILogger<IdentityDirectory> log) : BackgroundService
{
    private readonly ConcurrentDictionary<string, AgentIdentityRecord> _identities = new(StringComparer.Ordinal);

    /// <summary>True once the bucket's content up to the start of the watch is in memory.</summary>
    public bool Loaded { get; private set; }

    public bool TryGet(string agentId, out AgentIdentityRecord identity) => _identities.TryGetValue(agentId, out identity!);

    public IReadOnlyList<AgentIdentityRecord> All => [.. _identities.Values.OrderBy(i => i.AgentId, StringComparer.Ordinal)];

    /// <summary>Records <paramref name="identity"/> unless another live key holds the id; false then.</summary>
    public async Task<bool> TryEnrollAsync(AgentIdentityRecord identity, CancellationToken ct)
    {
        var store = await buckets.IdentitiesAsync(ct);
        var value = EnrollmentBuckets.Write(identity, ContractJson.Default.AgentIdentityRecord);
        try
        {
            await store.CreateAsync(identity.AgentId, value, EnrollmentBuckets.Raw, ct);
            _identities[identity.AgentId] = identity;
            return true;
        }
        catch (NatsKVCreateException)
        {
        }
        var current = await store.GetEntryAsync(identity.AgentId, serializer: EnrollmentBuckets.Raw, cancellationToken: ct);
        var existing = EnrollmentBuckets.Read(current.Value, ContractJson.Default.AgentIdentityRecord);
        // The same key again (a re-run of enroll on the same host) or an id whose key was revoked: take it.
        if (existing is not null && existing.PublicKey != identity.PublicKey && existing.RevokedAt is null)
        {
            return false;
        }
        try
        {
            await store.UpdateAsync(identity.AgentId, value, current.Revision, EnrollmentBuckets.Raw, ct);
        }
        catch (NatsKVWrongLastRevisionException)
        {
            return false;
        }
        _identities[identity.AgentId] = identity;
        return true;
    }

    /// <summary>Marks the agent revoked; null when it was never enrolled.</summary>
    public async Task<AgentIdentityRecord?> RevokeAsync(string agentId, DateTimeOffset at, CancellationToken ct)
    {
        var store = await buckets.IdentitiesAsync(ct);
        NatsKVEntry<byte[]> entry;
        try
        {
            entry = await store.GetEntryAsync(agentId, serializer: EnrollmentBuckets.Raw, cancellationToken: ct);
        }
        catch (NatsKVKeyNotFoundException)
        {
            return null;
        }
        var identity = EnrollmentBuckets.Read(entry.Value, ContractJson.Default.AgentIdentityRecord);
        if (identity is null)
        {
            return null;
        }
        identity.RevokedAt ??= at;
        await store.PutAsync(agentId, EnrollmentBuckets.Write(identity, ContractJson.Default.AgentIdentityRecord), EnrollmentBuckets.Raw, cancellationToken: ct);
        _identities[agentId] = identity;
        return identity;
    }

    /// <summary>Every revoked identity's key, read from the bucket itself (not the cache): what the account JWT must list.</summary>
    public async Task<IReadOnlyList<AgentIdentityRecord>> RevokedAsync(CancellationToken ct)
    {
        var store = await buckets.IdentitiesAsync(ct);
        var revoked = new List<AgentIdentityRecord>();
        await foreach (var key in store.GetKeysAsync(cancellationToken: ct))
        {
            try
            {
                var entry = await store.GetEntryAsync(key, serializer: EnrollmentBuckets.Raw, cancellationToken: ct);
                if (EnrollmentBuckets.Read(entry.Value, ContractJson.Default.AgentIdentityRecord) is { RevokedAt: not null } identity)
                {
                    revoked.Add(identity);
                }
            }
            catch (NatsKVKeyDeletedException)
            {
            }
            catch (NatsKVKeyNotFoundException)
            {
            }
        }
        return revoked;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => retries.WatchIdentities.KeepRunningAsync(async token =>
    {
        var store = await buckets.IdentitiesAsync(token);
        var opts = FimBuckets.MirrorWatch(() => Loaded = true);
        await foreach (var entry in store.WatchAsync(EnrollmentBuckets.Raw, opts, token))
        {
            if (entry.Operation is NatsKVOperation.Del or NatsKVOperation.Purge)
            {
                _identities.TryRemove(entry.Key, out _);
            }
            else if (EnrollmentBuckets.Read(entry.Value, ContractJson.Default.AgentIdentityRecord) is { } identity && identity.AgentId == entry.Key)
            {
                _identities[entry.Key] = identity;
            }
            else
            {
                log.LogWarning("KV {Bucket} key {Key} holds no identity record; ignored", Subjects.IdentitiesBucket, entry.Key);
            }
            if (entry.Delta == 0)
            {
                Loaded = true;
            }
        }
    }, stoppingToken);
}

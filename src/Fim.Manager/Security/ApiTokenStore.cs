using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Nats;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Security;

/// <summary>
/// API tokens in KV fim-api-tokens (managers are stateless; every manager reads the same bucket, so a token revoked
/// through one is refused by all at their next lookup). Lookups read the bucket each time: no cache to outlive a revocation.
/// </summary>
public sealed class ApiTokenStore(NatsConnector nats, TimeProvider time, ILogger<ApiTokenStore> log)
{
    /// <summary>Last use is written at most this often per token, so a busy token does not write on every call.</summary>
    public static readonly TimeSpan LastUseResolution = TimeSpan.FromMinutes(1);

    private INatsKVStore? _store;

    public async Task<INatsKVStore> StoreAsync(CancellationToken cancellationToken)
    {
        if (_store is { } store)
        {
            return store;
        }
        var kv = await nats.KeyValueAsync(cancellationToken);
        try
        {
            store = await kv.GetStoreAsync(Subjects.ApiTokensBucket, cancellationToken);
        }
        catch (Exception e) when (e is NatsKVException or NatsJSApiException)
        {
            store = await kv.CreateOrUpdateStoreAsync(new NatsKVConfig(Subjects.ApiTokensBucket)
            {
                Description = "FimOperator API tokens (SHA-256 of each token, never the token)",
                History = 1,
                Storage = NatsKVStorageType.File,
            }, cancellationToken);
        }
        return _store = store;
    }

    public async Task<ApiTokenRecord?> FindAsync(string tokenId, CancellationToken cancellationToken)
    {
        var store = await StoreAsync(cancellationToken);
        var entry = await store.TryGetEntryAsync<byte[]>(tokenId, cancellationToken: cancellationToken);
        return entry.Success && entry.Value.Value is { Length: > 0 } data ? Read(data) : null;
    }

    public async Task PutAsync(ApiTokenRecord token, CancellationToken cancellationToken)
    {
        var store = await StoreAsync(cancellationToken);
        await store.PutAsync(token.TokenId, JsonSerializer.SerializeToUtf8Bytes(token, SecurityJson.Default.ApiTokenRecord), cancellationToken: cancellationToken);
    }

    /// <summary>Stores a token that is not there yet; false when its id is already taken (whatever its state), so nothing is renewed.</summary>
    public async Task<bool> CreateAsync(ApiTokenRecord token, CancellationToken cancellationToken)
    {
        var store = await StoreAsync(cancellationToken);
        try
        {
            await store.CreateAsync(token.TokenId, JsonSerializer.SerializeToUtf8Bytes(token, SecurityJson.Default.ApiTokenRecord), cancellationToken: cancellationToken);
            return true;
        }
        catch (NatsKVCreateException)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<ApiTokenRecord>> ListAsync(CancellationToken cancellationToken)
    {
        var store = await StoreAsync(cancellationToken);
        var tokens = new List<ApiTokenRecord>();
        try
        {
            await foreach (var key in store.GetKeysAsync(cancellationToken: cancellationToken))
            {
                if (await FindAsync(key, cancellationToken) is { } token)
                {
                    tokens.Add(token);
                }
            }
        }
        catch (NatsKVException)
        {
            // An empty bucket answers "no keys found" with an error.
        }
        return [.. tokens.OrderBy(t => t.CreatedAt)];
    }

    /// <summary>Records a use; skipped when the last one is recent. A lost update (another manager wrote first) is fine.</summary>
    public async Task NoteUseAsync(ApiTokenRecord token, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (token.LastUsedAt is { } last && now - last < LastUseResolution)
        {
            return;
        }
        try
        {
            await PutAsync(token with { LastUsedAt = now }, cancellationToken);
        }
        catch (Exception e) when (e is NatsKVException or NatsJSException)
        {
            log.LogDebug("Could not record the use of API token {TokenId}: {Error}", token.TokenId, e.Message);
        }
    }

    private ApiTokenRecord? Read(byte[] data)
    {
        try
        {
            return JsonSerializer.Deserialize(data, SecurityJson.Default.ApiTokenRecord);
        }
        catch (JsonException e)
        {
            log.LogWarning("An entry in KV {Bucket} is not an API token record: {Error}", Subjects.ApiTokensBucket, e.Message);
            return null;
        }
    }
}

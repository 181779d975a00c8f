using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Fim.Contracts;
using Fim.Manager.Nats;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Enrollment;

/// <summary>The managers' own KV buckets for identities, join tokens and event ids, created on first use.</summary>
public sealed class EnrollmentBuckets(NatsConnector nats, IOptions<EnrollmentOptions> options)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, INatsKVStore> _stores = new(StringComparer.Ordinal);

    public Task<INatsKVStore> IdentitiesAsync(CancellationToken ct) => StoreAsync(Subjects.IdentitiesBucket, null, ct);

    public Task<INatsKVStore> JoinTokensAsync(CancellationToken ct) => StoreAsync(Subjects.JoinTokensBucket, null, ct);

    public Task<INatsKVStore> EventIdsAsync(CancellationToken ct) => StoreAsync(Subjects.EventIdsBucket, options.Value.EventIdWindow, ct);

    private async Task<INatsKVStore> StoreAsync(string bucket, TimeSpan? maxAge, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (!_stores.TryGetValue(bucket, out var store))
            {
                var kv = await nats.KeyValueAsync(ct);
                var config = new NatsKVConfig(bucket) { History = 1, Storage = NatsKVStorageType.File };
                if (maxAge is { } age)
                {
                    config = config with { MaxAge = age };
                }
                store = await kv.CreateOrUpdateStoreAsync(config, ct);
                _stores[bucket] = store;
            }
            return store;
        }
        finally
        {
            _gate.Release();
        }
    }

    public static byte[] Write<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToUtf8Bytes(value, type);

    public static T? Read<T>(byte[]? bytes, JsonTypeInfo<T> type)
        where T : class
    {
        if (bytes is null)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(bytes, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static NatsRawSerializer<byte[]> Raw => NatsRawSerializer<byte[]>.Default;
}

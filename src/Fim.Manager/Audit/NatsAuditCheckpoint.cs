using System.Text.Json;
using System.Text.Json.Serialization;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Manager.Store;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Audit;

/// <summary>
/// The audit checkpoint in KV fim-audit, key "checkpoint": outside the database, so deleting the last rows of the
/// table (which leaves a valid chain) is noticed. It only moves forward: a compare-and-set on the key's revision, so
/// two managers appending at once cannot move it back.
/// </summary>
public sealed class NatsAuditCheckpoint(NatsConnector nats, IOptions<PipelineOptions> pipeline) : IAuditCheckpoint
{
    public const string Key = "checkpoint";
    private const int Attempts = 10;

    private INatsKVStore? _store;

    public async Task<AuditCheckpoint?> ReadAsync(CancellationToken cancellationToken)
    {
        var store = await StoreAsync(cancellationToken);
        var entry = await store.TryGetEntryAsync<byte[]>(Key, cancellationToken: cancellationToken);
        return entry.Success ? Read(entry.Value.Value) : null;
    }

    public async Task AdvanceAsync(AuditCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        var store = await StoreAsync(cancellationToken);
        var data = JsonSerializer.SerializeToUtf8Bytes(new CheckpointJson(checkpoint.Sequence, checkpoint.Hash), AuditJson.Default.CheckpointJson);
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var entry = await store.TryGetEntryAsync<byte[]>(Key, cancellationToken: cancellationToken);
            try
            {
                if (!entry.Success)
                {
                    await store.CreateAsync(Key, data, cancellationToken: cancellationToken);
                    return;
                }
                if (Read(entry.Value.Value) is { } current && current.Sequence >= checkpoint.Sequence)
                {
                    return;
                }
                await store.UpdateAsync(Key, data, entry.Value.Revision, cancellationToken: cancellationToken);
                return;
            }
            catch (NatsKVException)
            {
                // Another manager moved it meanwhile (wrong last revision, or created first): look again.
            }
        }
        throw new InvalidOperationException($"KV {Subjects.AuditBucket}: the checkpoint kept changing under {Attempts} attempts");
    }

    private async Task<INatsKVStore> StoreAsync(CancellationToken cancellationToken)
    {
        if (_store is { } store)
        {
            return store;
        }
        var kv = await nats.KeyValueAsync(cancellationToken);
        try
        {
            store = await kv.GetStoreAsync(Subjects.AuditBucket, cancellationToken);
        }
        catch (Exception e) when (e is NatsKVException or NatsJSApiException)
        {
            store = await kv.CreateOrUpdateStoreAsync(new NatsKVConfig(Subjects.AuditBucket)
            {
                Description = "FimOperator audit log checkpoint: the last sequence and hash of the store's audit_log",
                History = 5,
                Storage = NatsKVStorageType.File,
                NumberOfReplicas = pipeline.Value.Replicas,
            }, cancellationToken);
        }
        return _store = store;
    }

    private static AuditCheckpoint? Read(byte[]? data)
    {
        try
        {
            return data is { Length: > 0 } && JsonSerializer.Deserialize(data, AuditJson.Default.CheckpointJson) is { } c
                ? new AuditCheckpoint(c.Sequence, c.Hash)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

internal sealed record CheckpointJson(long Sequence, string Hash);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CheckpointJson))]
internal sealed partial class AuditJson : JsonSerializerContext;

using System.Text.Json;
using Fim.Contracts;
using Fim.Operator.Nats;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;

namespace Fim.Operator.Controllers.Node;

/// <summary>A maintenance window as stored, with the KV revision an update must match.</summary>
public sealed record StoredWindow(MaintenanceWindow Window, ulong Revision);

/// <summary>The maintenance windows in KV fim-maintenance, as the node hold-off reads and writes them.</summary>
public interface IMaintenanceWindowStore
{
    Task<IReadOnlyList<StoredWindow>> ListAsync(CancellationToken ct);

    Task CreateAsync(MaintenanceWindow window, CancellationToken ct);

    /// <summary>Writes <paramref name="window"/> over <paramref name="revision"/> only (a manager may have summarized it meanwhile).</summary>
    Task UpdateAsync(MaintenanceWindow window, ulong revision, CancellationToken ct);
}

/// <summary>KV fim-maintenance, every call bounded by a timeout (like the policy store).</summary>
public sealed class NatsMaintenanceWindowStore(Func<INatsKVStore?> bucket, TimeSpan timeout) : IMaintenanceWindowStore
{
    private readonly KvCall _call = new(bucket, Subjects.MaintenanceBucket, timeout);

    public Task<IReadOnlyList<StoredWindow>> ListAsync(CancellationToken ct) => _call.RunAsync<IReadOnlyList<StoredWindow>>(async (b, token) =>
    {
        var windows = new List<StoredWindow>();
        await foreach (var key in b.GetKeysAsync(cancellationToken: token))
        {
            try
            {
                var entry = await b.GetEntryAsync(key, serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: token);
                if (entry.Value is { Length: > 0 } data && Read(data) is { } w)
                {
                    windows.Add(new StoredWindow(w, entry.Revision));
                }
            }
            catch (Exception e) when (e is NatsKVKeyNotFoundException or NatsKVKeyDeletedException)
            {
            }
        }

        return windows;
    }, ct);

    public Task CreateAsync(MaintenanceWindow window, CancellationToken ct) =>
        _call.RunAsync(async (b, token) => await b.CreateAsync(window.Id, Write(window), serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: token), ct);

    public Task UpdateAsync(MaintenanceWindow window, ulong revision, CancellationToken ct) =>
        _call.RunAsync(async (b, token) => await b.UpdateAsync(window.Id, Write(window), revision, serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: token), ct);

    private static byte[] Write(MaintenanceWindow w) => JsonSerializer.SerializeToUtf8Bytes(w, ContractJson.Default.MaintenanceWindow);

    private static MaintenanceWindow? Read(byte[] data)
    {
        try
        {
            return JsonSerializer.Deserialize(data, ContractJson.Default.MaintenanceWindow);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

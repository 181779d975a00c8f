using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Nats;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Maintenance;

/// <summary>
/// The maintenance windows in KV fim-maintenance, kept in memory by a watch (a cache any manager rebuilds from the
/// bucket), so a window stored through one manager lowers alerts on all of them. <see cref="Apply"/> is the pipeline's
/// part: it only lowers and tags an alert, it never drops one.
/// </summary>
public sealed class MaintenanceWindows(NatsConnector nats, IOptions<PipelineOptions> pipeline, MaintenanceClock clock, ILogger<MaintenanceWindows> log)
    : BackgroundService
{
    private static readonly RetryBackoff WatchRestart = RetryBackoff.Constant(TimeSpan.FromSeconds(2));

    private readonly ConcurrentDictionary<string, MaintenanceWindow> _windows = new(StringComparer.Ordinal);
    private INatsKVStore? _store;

    /// <summary>Every window known, open or not.</summary>
    public IReadOnlyList<MaintenanceWindow> All => [.. _windows.Values.OrderBy(w => w.Start).ThenBy(w => w.Id, StringComparer.Ordinal)];

    /// <summary>
    /// Lowers <paramref name="alert"/> by every open window covering its agent (the largest reduction wins; a level
    /// stays at least 1) and tags it with each window. The change's own time decides, so a late delivery of a change
    /// made during the window is still the window's.
    /// </summary>
    public void Apply(Alert alert, IReadOnlyDictionary<string, string> labels)
    {
        if (_windows.IsEmpty)
        {
            return;
        }
        var reduction = 0;
        foreach (var w in _windows.Values.OrderBy(w => w.Id, StringComparer.Ordinal))
        {
            if (w.IsOpenAt(alert.ObservedAt) && w.Covers(alert.AgentId, labels))
            {
                reduction = Math.Max(reduction, w.LevelReduction);
                alert.Tags.Add(MaintenanceWindow.Tag(w.Id));
            }
        }
        if (reduction > 0)
        {
            alert.Level = Math.Max(1, alert.Level - reduction);
        }
    }

    /// <summary>Stores a new window (and knows it at once, before the watch brings it back).</summary>
    public async Task<MaintenanceWindow> CreateAsync(MaintenanceWindow window, CancellationToken cancellationToken)
    {
        window.Id = NewId();
        var store = await StoreAsync(cancellationToken);
        await store.CreateAsync(window.Id, Serialize(window), cancellationToken: cancellationToken);
        _windows[window.Id] = window;
        return window;
    }

    /// <summary>Closes a window now; null when there is no such window.</summary>
    public async Task<MaintenanceWindow?> EndAsync(string id, string by, CancellationToken cancellationToken)
    {
        var store = await StoreAsync(cancellationToken);
        var entry = await store.TryGetEntryAsync<byte[]>(id, serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: cancellationToken);
        if (!entry.Success || entry.Value.Value is not { Length: > 0 } data || Read(data) is not { } window)
        {
            return null;
        }
        var now = clock.Time.GetUtcNow();
        if (window.ClosesAt <= now)
        {
            throw new InvalidOperationException($"window_id: window {id} closed at {window.ClosesAt:O}");
        }
        window.EndedAt = now < window.Start ? window.Start : now;
        window.EndedBy = by;
        // Only over the value just read: two managers ending it at once cannot both win.
        await store.UpdateAsync(id, Serialize(window), entry.Value.Revision, cancellationToken: cancellationToken);
        _windows[id] = window;
        return window;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        RetryForever.Create($"the watch of KV {Subjects.MaintenanceBucket}", WatchRestart, log).KeepRunningAsync(async token =>
        {
            var store = await StoreAsync(token);
            await foreach (var entry in store.WatchAsync(NatsRawSerializer<byte[]>.Default, new NatsKVWatchOpts(), token))
            {
                if (entry.Operation is NatsKVOperation.Del or NatsKVOperation.Purge)
                {
                    _windows.TryRemove(entry.Key, out _);
                }
                else if (entry.Value is { Length: > 0 } value && Read(value) is { } window)
                {
                    _windows[entry.Key] = window;
                }
            }
        }, stoppingToken);

    private async Task<INatsKVStore> StoreAsync(CancellationToken cancellationToken) =>
        _store ??= await FimBuckets.OpenOrCreateAsync(await nats.KeyValueAsync(cancellationToken), Subjects.MaintenanceBucket, pipeline.Value.Replicas, cancellationToken);

    private static byte[] Serialize(MaintenanceWindow w) => JsonSerializer.SerializeToUtf8Bytes(w, ContractJson.Default.MaintenanceWindow);

    private MaintenanceWindow? Read(byte[] data)
    {
        try
        {
            return JsonSerializer.Deserialize(data, ContractJson.Default.MaintenanceWindow);
        }
        catch (JsonException e)
        {
            log.LogWarning("An entry in KV {Bucket} is not a maintenance window: {Error}", Subjects.MaintenanceBucket, e.Message);
            return null;
        }
    }

    private static string NewId() => "mw-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
}

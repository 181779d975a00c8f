using System.Collections.Concurrent;
using System.Net;
using Fim.Nats;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Fim.Operator.Runtime;

/// <summary>One list call or watch call of a kind: (resourceVersion, watch, timeoutSeconds, ct) -> response.</summary>
public delegate Task<HttpOperationResponse<TList>> ListCall<TList>(string? resourceVersion, bool watch, int? timeoutSeconds, CancellationToken ct);

public sealed record InformerOptions
{
    /// <summary>Server-side watch timeout; watches can also die silently, so they are restarted at least this often.</summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Failed lists and watches back off from RetryDelay up to this (a kind that is not served is not polled every second).</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// List + watch of one kind into a cache, with resourceVersion bookkeeping: watches resume from the last seen
/// version (events or bookmarks), end after a timeout and are restarted, and a 410 Gone leads to a relist that
/// reports what changed meanwhile (no missed update). Handlers see (type, object) for every change.
/// </summary>
public sealed class Informer<T, TList>(string name, ListCall<TList> list, InformerOptions options, ILogger logger)
    where T : IKubernetesObject<V1ObjectMeta>
    where TList : IItems<T>, IMetadata<V1ListMeta>
{
    private readonly ConcurrentDictionary<string, T> _cache = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _resourceVersion;

    /// <summary>(type, previous cached state or default, new state).</summary>
    public event Action<WatchEventType, T?, T>? Changed;

    public string Name => name;

    /// <summary>Applied to every object before it is cached (e.g. dropping a Secret's data, which is never read).</summary>
    public Func<T, T>? Transform { get; init; }

    /// <summary>Completes after the first list.</summary>
    public Task Synced => _synced.Task;

    public int Lists { get; private set; }

    public int Watches { get; private set; }

    public T? Get(string key) => _cache.TryGetValue(key, out var o) ? o : default;

    public IReadOnlyCollection<string> Keys => [.. _cache.Keys];

    public IReadOnlyCollection<T> Items => [.. _cache.Values];

    public async Task RunAsync(CancellationToken ct)
    {
        var retry = OperatorRetries.Informer(name, options, logger);
        var needList = true;
        while (!ct.IsCancellationRequested)
        {
            await retry.UntilDoneAsync(async token =>
            {
                try
                {
                    if (needList)
                    {
                        await RelistAsync(token);
                        needList = false;
                    }

                    needList = await WatchOnceAsync(token);
                }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Gone)
                {
                    needList = true;
                }
            }, ct);
        }
    }

    private async Task RelistAsync(CancellationToken ct)
    {
        using var response = await list(null, false, null, ct);
        Lists++;
        var seen = new HashSet<string>();
        foreach (var listed in response.Body.Items)
        {
            var item = Transform is { } t ? t(listed) : listed;
            var key = ResourceKey.Of(item);
            seen.Add(key);
            var known = _cache.TryGetValue(key, out var old);
            _cache[key] = item;
            if (!known)
            {
                Changed?.Invoke(WatchEventType.Added, default, item);
            }
            else if (old!.Metadata.ResourceVersion != item.Metadata.ResourceVersion)
            {
                Changed?.Invoke(WatchEventType.Modified, old, item);
            }
        }

        foreach (var key in _cache.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            if (_cache.TryRemove(key, out var gone))
            {
                Changed?.Invoke(WatchEventType.Deleted, gone, gone);
            }
        }

        _resourceVersion = response.Body.Metadata.ResourceVersion;
        _synced.TrySetResult();
        logger.LogDebug("informer {Informer}: listed {Count} at resourceVersion {ResourceVersion}", name, seen.Count, _resourceVersion);
    }

    /// <summary>One watch from the last resourceVersion until it ends; true when a relist is needed (410 Gone).</summary>
    private async Task<bool> WatchOnceAsync(CancellationToken ct)
    {
        var gone = false;
        // Jitter so that many watches do not all restart together.
        var timeout = (int)Math.Max(1, options.WatchTimeout.TotalSeconds * (0.9 + (Random.Shared.NextDouble() * 0.2)));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(TimeSpan.FromSeconds(timeout + 15)); // in case the server never ends it
        Watches++;
#pragma warning disable CS0618 // WatcherExt is the generic watch KubernetesClient offers for custom resources
        var events = list(_resourceVersion, true, timeout, stop.Token).WatchAsync<T, TList>(
            e =>
            {
                if (e is KubernetesException { Status.Code: 410 } or HttpOperationException { Response.StatusCode: HttpStatusCode.Gone })
                {
                    gone = true;
                }
                else
                {
                    logger.LogDebug("informer {Informer}: watch error {Error}", name, e.Message);
                }
            },
            stop.Token);
#pragma warning restore CS0618
        try
        {
            await foreach (var (type, item) in events)
            {
                if (item?.Metadata is null)
                {
                    continue;
                }

                if (item.Metadata.ResourceVersion is { } rv)
                {
                    _resourceVersion = rv;
                }

                Apply(type, item);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Our own deadline: a silent watch; restart it.
        }

        return gone;
    }

    private void Apply(WatchEventType type, T item)
    {
        if (Transform is { } t)
        {
            item = t(item);
        }

        switch (type)
        {
            case WatchEventType.Added:
            case WatchEventType.Modified:
                {
                    var key = ResourceKey.Of(item);
                    _cache.TryGetValue(key, out var old);
                    _cache[key] = item;
                    Changed?.Invoke(type, old, item);
                    break;
                }
            case WatchEventType.Deleted:
                _cache.TryRemove(ResourceKey.Of(item), out var previous);
                Changed?.Invoke(type, previous, item);
                break;
            default:
                break; // bookmarks only move the resourceVersion
        }
    }
}

/// <summary>"namespace/name" keys of objects.</summary>
public static class ResourceKey
{
    public static string Of(IKubernetesObject<V1ObjectMeta> o) => Of(o.Metadata.NamespaceProperty, o.Metadata.Name);

    public static string Of(string? ns, string name) => string.IsNullOrEmpty(ns) ? name : $"{ns}/{name}";

    public static (string? Namespace, string Name) Split(string key)
    {
        var i = key.IndexOf('/');
        return i < 0 ? (null, key) : (key[..i], key[(i + 1)..]);
    }
}

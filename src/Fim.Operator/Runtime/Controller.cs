using System.Diagnostics;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Fim.Operator.Runtime;

/// <summary>What a reconcile asks for next: nothing, or another look after a delay.</summary>
public readonly record struct ReconcileResult(TimeSpan? RequeueAfter)
{
    public static ReconcileResult Done => new(null);

    public static ReconcileResult After(TimeSpan delay) => new(delay);
}

/// <summary>Level-triggered, idempotent: bring the world in line with the object (null when it is gone).</summary>
public interface IReconciler<in T>
{
    Task<ReconcileResult> ReconcileAsync(string key, T? obj, CancellationToken ct);
}

public sealed record ControllerOptions
{
    public int Workers { get; init; } = 4;

    /// <summary>Every object is reconciled again this often even without a change.</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromMinutes(5);

    public TimeSpan BaseBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// Informer -> work queue -> N workers -> reconciler. Updates that change only status (same generation, same
/// deletion state, finalizers, labels, annotations) are filtered so status writes do not loop. Secondary sources
/// (watched children) map their objects to owner keys.
/// </summary>
public sealed class Controller<T, TList> : IDisposable
    where T : class, IKubernetesObject<V1ObjectMeta>
    where TList : IItems<T>, IMetadata<V1ListMeta>
{
    private readonly string _name;
    private readonly Informer<T, TList> _primary;
    private readonly IReconciler<T> _reconciler;
    private readonly ControllerOptions _options;
    private readonly ILogger _logger;
    private readonly WorkQueue _queue;
    private readonly List<Func<CancellationToken, Task>> _sources = [];

    public Controller(string name, Informer<T, TList> primary, IReconciler<T> reconciler, ControllerOptions options, ILogger logger)
    {
        _name = name;
        _primary = primary;
        _reconciler = reconciler;
        _options = options;
        _logger = logger;
        _queue = new WorkQueue(options.BaseBackoff, options.MaxBackoff);
        primary.Changed += (type, old, obj) =>
        {
            if (type != WatchEventType.Modified || old is null || SpecOrLifecycleChanged(old, obj))
            {
                Enqueue(ResourceKey.Of(obj));
            }
        };
        _sources.Add(primary.RunAsync);
    }

    public WorkQueue Queue => _queue;

    private long _reconciles;

    /// <summary>Reconciles finished (successfully or not) since start.</summary>
    public long Reconciles => Interlocked.Read(ref _reconciles);

    public Informer<T, TList> Informer => _primary;

    /// <summary>Reconcile the owner (mapped from a child) whenever a child changes.</summary>
    public void Watch<TChild, TChildList>(Informer<TChild, TChildList> children, Func<TChild, string?> ownerKey)
        where TChild : IKubernetesObject<V1ObjectMeta>
        where TChildList : IItems<TChild>, IMetadata<V1ListMeta>
    {
        children.Changed += (_, _, child) =>
        {
            if (ownerKey(child) is { } key)
            {
                Enqueue(key);
            }
        };
        _sources.Add(children.RunAsync);
    }

    /// <summary>Queue every known object (e.g. when an outside input they all depend on changed).</summary>
    public void EnqueueAll()
    {
        foreach (var key in _primary.Keys)
        {
            Enqueue(key);
        }
    }

    private void Enqueue(string key)
    {
        _queue.Add(key);
        OperatorMetrics.QueueDepth.WithLabels(_name).Set(_queue.Depth);
    }

    public static bool SpecOrLifecycleChanged(T old, T obj) =>
        old.Metadata.Generation != obj.Metadata.Generation
        || old.Metadata.DeletionTimestamp != obj.Metadata.DeletionTimestamp
        || !SameSet(old.Metadata.Finalizers, obj.Metadata.Finalizers)
        || !SameMap(old.Metadata.Labels, obj.Metadata.Labels)
        || !SameMap(old.Metadata.Annotations, obj.Metadata.Annotations);

    public async Task RunAsync(CancellationToken ct)
    {
        var sources = _sources.Select(run => Task.Run(() => run(ct), CancellationToken.None)).ToList();
        try
        {
            await _primary.Synced.WaitAsync(ct);
            var workers = Enumerable.Range(0, _options.Workers).Select(_ => Task.Run(() => WorkAsync(ct), CancellationToken.None));
            var resync = Task.Run(() => ResyncAsync(ct), CancellationToken.None);
            await Task.WhenAll([.. sources, .. workers, resync]);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await Task.WhenAll(sources).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task ResyncAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.ResyncPeriod);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                EnqueueAll();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            string key;
            try
            {
                key = await _queue.TakeAsync(ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            OperatorMetrics.QueueDepth.WithLabels(_name).Set(_queue.Depth);
            var started = Stopwatch.GetTimestamp();
            try
            {
                var result = await _reconciler.ReconcileAsync(key, _primary.Get(key), ct);
                _queue.Forget(key);
                OperatorMetrics.Reconciles.WithLabels(_name, "success").Inc();
                if (result.RequeueAfter is { } after)
                {
                    _queue.AddAfter(key, after);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                var delay = _queue.AddRateLimited(key);
                OperatorMetrics.Reconciles.WithLabels(_name, "error").Inc();
                OperatorMetrics.Errors.WithLabels(_name, e.GetType().Name).Inc();
                _logger.LogWarning("{Controller} {Key}: reconcile failed ({Error}); retry in {Delay} ms", _name, key, Describe(e), (int)delay.TotalMilliseconds);
            }
            finally
            {
                OperatorMetrics.Duration.WithLabels(_name).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                _queue.Done(key);
                Interlocked.Increment(ref _reconciles);
            }
        }
    }

    private static string Describe(Exception e) => e is k8s.Autorest.HttpOperationException h
        ? $"HTTP {(int)h.Response.StatusCode} {h.Response.ReasonPhrase}: {StatusMessage(h.Response.Content)}"
        : e.Message;

    /// <summary>The message of a Kubernetes Status body, shortened.</summary>
    private static string StatusMessage(string? content)
    {
        try
        {
            var message = content is null ? null : System.Text.Json.Nodes.JsonNode.Parse(content)?["message"]?.GetValue<string>();
            return message is null ? "" : message.Length > 300 ? message[..300] : message;
        }
        catch (System.Text.Json.JsonException)
        {
            return "";
        }
    }

    private static bool SameSet(IList<string>? a, IList<string>? b) =>
        (a ?? []).Count == (b ?? []).Count && (a ?? []).All(x => (b ?? []).Contains(x));

    private static bool SameMap(IDictionary<string, string>? a, IDictionary<string, string>? b) =>
        (a ?? new Dictionary<string, string>()).Count == (b ?? new Dictionary<string, string>()).Count
        && (a ?? new Dictionary<string, string>()).All(kv => b is not null && b.TryGetValue(kv.Key, out var v) && v == kv.Value);

    public void Dispose() => _queue.Dispose();
}

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

/// <summary>
/// A failure retrying cannot fix (an invalid spec, a refused object): the controller stops retrying the key until it
/// changes again. The reconciler should have said why in a condition before throwing.
/// </summary>
public sealed class TerminalReconcileException(string reason, string message) : Exception(message)
{
    public string Reason { get; } = reason;
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
    private readonly List<Func<Task>> _required = [];
    private volatile bool _running;

    /// <param name="relevant">Which updates of the primary object matter; default <see cref="SpecOrLifecycleChanged"/> (kinds
    /// without a generation, such as Nodes, pass their own).</param>
    public Controller(string name, Informer<T, TList> primary, IReconciler<T> reconciler, ControllerOptions options, ILogger logger, Func<T, T, bool>? relevant = null)
    {
        relevant ??= SpecOrLifecycleChanged;
        _name = name;
        _primary = primary;
        _reconciler = reconciler;
        _options = options;
        _logger = logger;
        _queue = new WorkQueue(options.BaseBackoff, options.MaxBackoff)
        {
            Waited = wait => OperatorMetrics.QueueLatency.WithLabels(name).Observe(wait.TotalSeconds),
        };
        primary.Changed += (type, old, obj) =>
        {
            if (type != WatchEventType.Modified || old is null || relevant(old, obj))
            {
                Enqueue(ResourceKey.Of(obj));
            }
        };
        _sources.Add(primary.RunAsync);
        _required.Add(() => primary.Synced);
    }

    /// <summary>True once the required caches are synced and the workers run.</summary>
    public bool Running => _running;

    public WorkQueue Queue => _queue;

    private long _reconciles;

    /// <summary>Reconciles finished (successfully or not) since start.</summary>
    public long Reconciles => Interlocked.Read(ref _reconciles);

    public Informer<T, TList> Informer => _primary;

    /// <summary>
    /// Reconcile the owner (mapped from a child) whenever a child changes. Workers start only when a required source
    /// has synced (reconcilers read it); an optional one (a kind whose CRD may not be installed) is not waited for.
    /// </summary>
    public void Watch<TChild, TChildList>(Informer<TChild, TChildList> children, Func<TChild, string?> ownerKey, bool required = true)
        where TChild : IKubernetesObject<V1ObjectMeta>
        where TChildList : IItems<TChild>, IMetadata<V1ListMeta>
        => WatchMany(children, child => ownerKey(child) is { } key ? [key] : [], required);

    /// <summary>Reconcile every object a changed source object maps to (e.g. the pools referring to a Secret).</summary>
    public void WatchMany<TSource, TSourceList>(Informer<TSource, TSourceList> source, Func<TSource, IEnumerable<string>> keys, bool required = true)
        where TSource : IKubernetesObject<V1ObjectMeta>
        where TSourceList : IItems<TSource>, IMetadata<V1ListMeta>
    {
        source.Changed += (_, _, obj) =>
        {
            foreach (var key in keys(obj))
            {
                Enqueue(key);
            }
        };
        _sources.Add(source.RunAsync);
        if (required)
        {
            _required.Add(() => source.Synced);
        }
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
        OperatorMetrics.QueueAdds.WithLabels(_name).Inc();
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
            await Task.WhenAll(_required.Select(synced => synced())).WaitAsync(ct);
            var workers = Enumerable.Range(0, _options.Workers).Select(_ => Task.Run(() => WorkAsync(ct), CancellationToken.None)).ToList();
            var resync = Task.Run(() => ResyncAsync(ct), CancellationToken.None);
            _running = true;
            await Task.WhenAll([.. sources, .. workers, resync]);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await Task.WhenAll(sources).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            _running = false;
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
            OperatorMetrics.Workers.WithLabels(_name).Inc();
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
            catch (TerminalReconcileException e)
            {
                _queue.Forget(key);
                OperatorMetrics.Reconciles.WithLabels(_name, "terminal").Inc();
                OperatorMetrics.Errors.WithLabels(_name, e.Reason).Inc();
                _logger.LogWarning("{Controller} {Key}: {Reason}: {Error}; not retried until it changes", _name, key, e.Reason, e.Message);
            }
            catch (Exception e)
            {
                var delay = _queue.AddRateLimited(key);
                OperatorMetrics.QueueRetries.WithLabels(_name).Inc();
                OperatorMetrics.Reconciles.WithLabels(_name, "error").Inc();
                OperatorMetrics.Errors.WithLabels(_name, e.GetType().Name).Inc();
                _logger.LogWarning("{Controller} {Key}: reconcile failed ({Error}); retry in {Delay} ms", _name, key, Describe(e), (int)delay.TotalMilliseconds);
            }
            finally
            {
                OperatorMetrics.Duration.WithLabels(_name).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                OperatorMetrics.Workers.WithLabels(_name).Dec();
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

using Fim.Operator.Api;
using Fim.Operator.Controllers.Pool;
using Fim.Operator.Runtime;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Fim.Operator.Controllers.Chaos;

/// <summary>
/// Chaos mode (spec.chaos.podKillInterval, off by default): for each pool that asks for it, deletes one ready manager pod
/// at random intervals (half to one and a half times the mean), and refuses (a Warning Event ChaosRefused, no deletion)
/// while fewer than <see cref="MinReady"/> pods are ready, so chaos never takes the last manager away. Pods are listed
/// uncached (label fim.io/pool) at each deletion only: chaos costs nothing for pools without it.
/// </summary>
public sealed class PoolChaosMonkey(IKubernetes client, Func<IEnumerable<FimManagerPool>> pools, EventRecorder events, ILogger logger, Random? random = null)
{
    public const int MinReady = 2;

    private readonly Random _random = random ?? Random.Shared;
    private readonly Dictionary<string, (TimeSpan Mean, DateTimeOffset Due)> _due = new(StringComparer.Ordinal);
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);
    private long _deleted;
    private long _refusals;

    /// <summary>How often due pools are looked for.</summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Pods deleted since start.</summary>
    public long Deleted => Interlocked.Read(ref _deleted);

    /// <summary>Times a due deletion was refused for want of ready pods.</summary>
    public long Refusals => Interlocked.Read(ref _refusals);

    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Tick);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    await TickAsync(DateTimeOffset.UtcNow, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("chaos: {Error}", e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Deletes a pod of every pool whose next deletion is due at <paramref name="now"/>.</summary>
    public async Task TickAsync(DateTimeOffset now, CancellationToken ct)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pool in pools())
        {
            if (pool.Metadata.DeletionTimestamp is not null || PoolDesiredState.SpecProblems(pool.Spec).Count > 0
                || PoolChaosSettings.Interval(pool.Spec.Chaos) is not { } mean)
            {
                continue;
            }

            var key = ResourceKey.Of(pool);
            seen.Add(key);
            if (!_due.TryGetValue(key, out var due) || due.Mean != mean)
            {
                _due[key] = (mean, now + PoolChaosSettings.Next(mean, _random));
                continue;
            }

            if (now < due.Due)
            {
                continue;
            }

            _due[key] = (mean, now + PoolChaosSettings.Next(mean, _random));
            await DeleteOneAsync(pool, ct);
        }

        foreach (var gone in _due.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            _due.Remove(gone);
            _refused.Remove(gone);
        }
    }

    /// <summary>Deletes one ready pod of <paramref name="pool"/> chosen at random; null when refused (fewer than two ready).</summary>
    public async Task<string?> DeleteOneAsync(FimManagerPool pool, CancellationToken ct)
    {
        var (ns, name) = (pool.Metadata.NamespaceProperty, pool.Metadata.Name);
        var key = ResourceKey.Of(pool);
        V1PodList pods;
        try
        {
            pods = await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: $"{PoolLabels.PoolLabel}={name}", cancellationToken: ct);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Forbidden)
        {
            Interlocked.Increment(ref _refusals);
            if (_refused.Add(key))
            {
                await events.RecordAsync(pool, "Warning", "ChaosRefused", "chaos: the operator may not list pods (install the chart with operator.rbac.chaos=true)", ct);
            }

            return null;
        }

        var ready = pods.Items.Where(IsReady).OrderBy(p => p.Metadata.Name, StringComparer.Ordinal).ToList();
        if (ready.Count < MinReady)
        {
            Interlocked.Increment(ref _refusals);
            var message = $"chaos: {ready.Count} ready manager pod(s), at least {MinReady} needed; no pod deleted";
            logger.LogWarning("pool {Pool}: {Message}", key, message);
            if (_refused.Add(key))
            {
                await events.RecordAsync(pool, "Warning", "ChaosRefused", message, ct);
            }

            return null;
        }

        _refused.Remove(key);
        var victim = ready[_random.Next(ready.Count)];
        try
        {
            await client.CoreV1.DeleteNamespacedPodAsync(victim.Metadata.Name, ns, cancellationToken: ct);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null; // gone meanwhile: the next interval picks again
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Forbidden)
        {
            Interlocked.Increment(ref _refusals);
            if (_refused.Add(key))
            {
                await events.RecordAsync(pool, "Warning", "ChaosRefused", "chaos: the operator may not delete pods (install the chart with operator.rbac.chaos=true)", ct);
            }

            return null;
        }

        Interlocked.Increment(ref _deleted);
        var what = $"chaos: deleted pod {victim.Metadata.Name} ({ready.Count} were ready)";
        logger.LogInformation("pool {Pool}: {Message}", key, what);
        await events.RecordAsync(pool, "Normal", "ChaosPodDeleted", what, ct);
        return victim.Metadata.Name;
    }

    private static bool IsReady(V1Pod pod) =>
        pod.Metadata.DeletionTimestamp is null
        && pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
}

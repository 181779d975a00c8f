using System.Net;
using Fim.Operator.Api;
using Fim.Operator.Runtime;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Fim.Operator.Controllers.Pool;

/// <summary>Applies PoolDesiredState: creates missing children, updates drifted ones, writes status when it changed.</summary>
public sealed class PoolReconciler(IKubernetes client, ResourceClient pools, EventRecorder events, TimeSpan refresh, ILogger logger) : IReconciler<FimManagerPool>
{
    public async Task<ReconcileResult> ReconcileAsync(string key, FimManagerPool? pool, CancellationToken ct)
    {
        if (pool is null || pool.Metadata.DeletionTimestamp is not null)
        {
            return ReconcileResult.Done; // children go with their ownerReferences
        }

        var ns = pool.Metadata.NamespaceProperty;
        var name = pool.Metadata.Name;
        var desired = PoolDesiredState.Build(pool);
        var problems = new List<string>();
        await ApplyAsync(pool, desired.ServiceAccount, ChildKinds.ServiceAccount(client), problems, ct);
        var deployment = await ApplyAsync(pool, desired.Deployment, ChildKinds.Deployment(client), problems, ct);
        await ApplyAsync(pool, desired.Service, ChildKinds.Service(client), problems, ct);
        var hpa = await ApplyAsync(pool, desired.Autoscaler, ChildKinds.Autoscaler(client), problems, ct);
        await ApplyAsync(pool, desired.DisruptionBudget, ChildKinds.DisruptionBudget(client), problems, ct);

        var status = PoolStatusCalculator.Compute(pool, deployment, hpa, problems, DateTime.UtcNow);
        if (!PoolStatusCalculator.Same(pool.Status, status))
        {
            await pools.PatchStatusAsync(ns, name, status, ct);
            if (Conditions.IsTrue(status.Conditions, "Degraded") && !Conditions.IsTrue(pool.Status?.Conditions, "Degraded"))
            {
                var c = Conditions.Find(status.Conditions, "Degraded")!;
                await events.RecordAsync(pool, "Warning", c.Reason ?? "Degraded", c.Message ?? "", ct);
            }
        }

        return ReconcileResult.After(refresh);
    }

    /// <summary>An uncached read before adopting (like controller-runtime's adoption check): same uid, not being deleted.</summary>
    private async Task<bool> IsCurrentAsync(FimManagerPool pool, CancellationToken ct)
    {
        try
        {
            var live = KubernetesJson.Deserialize<FimManagerPool>(KubernetesJson.Serialize(await client.CustomObjects.GetNamespacedCustomObjectAsync(
                FimApi.Group, FimApi.Version, pool.Metadata.NamespaceProperty, FimManagerPool.Plural, pool.Metadata.Name, ct)));
            return live.Metadata.Uid == pool.Metadata.Uid && live.Metadata.DeletionTimestamp is null;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    private async Task<T?> ApplyAsync<T>(FimManagerPool pool, T desired, ChildKind<T> kind, List<string> problems, CancellationToken ct)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var ns = pool.Metadata.NamespaceProperty;
        var name = desired.Metadata.Name;
        var live = await kind.ReadAsync(name, ns, ct);
        if (live is null)
        {
            var created = await kind.CreateAsync(desired, ns, ct);
            logger.LogInformation("pool {Pool}: created {Kind} {Name}", ResourceKey.Of(pool), desired.Kind, name);
            await events.RecordAsync(pool, "Normal", "Created", $"created {desired.Kind} {name}", ct);
            return created;
        }

        var decision = ChildSync.Decide(desired, live, kind.OwnedPaths, PoolLabels.PoolLabel);
        switch (decision.Action)
        {
            case ChildAction.Update:
                if (decision.Adopts && !await IsCurrentAsync(pool, ct))
                {
                    // A stale cache entry of a pool that is gone or was re-created: adopting for it would point the
                    // child at a dead uid and the garbage collector would delete it. The current pool's reconcile follows.
                    return null;
                }

                var updated = KubernetesJson.Deserialize<T>(decision.Updated!.ToJsonString());
                var replaced = await kind.ReplaceAsync(updated, name, ns, ct);
                logger.LogInformation("pool {Pool}: updated {Kind} {Name}", ResourceKey.Of(pool), desired.Kind, name);
                return replaced;
            case ChildAction.Conflict:
                problems.Add(decision.Reason!);
                return null;
            default:
                return live;
        }
    }
}

/// <summary>Typed read/create/replace of one child kind and the paths the operator owns in it.</summary>
public sealed record ChildKind<T>(
    Func<string, string, CancellationToken, Task<T>> Read,
    Func<T, string, CancellationToken, Task<T>> CreateAsync,
    Func<T, string, string, CancellationToken, Task<T>> ReplaceAsync,
    IReadOnlyList<string> OwnedPaths)
{
    public async Task<T?> ReadAsync(string name, string ns, CancellationToken ct)
    {
        try
        {
            return await Read(name, ns, ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return default;
        }
    }
}

public static class ChildKinds
{
    // spec.replicas is deliberately not owned: the HPA scales the Deployment and the operator never fights it.
    public static ChildKind<V1Deployment> Deployment(IKubernetes c) => new(
        (n, ns, ct) => c.AppsV1.ReadNamespacedDeploymentAsync(n, ns, cancellationToken: ct),
        (o, ns, ct) => c.AppsV1.CreateNamespacedDeploymentAsync(o, ns, cancellationToken: ct),
        (o, n, ns, ct) => c.AppsV1.ReplaceNamespacedDeploymentAsync(o, n, ns, cancellationToken: ct),
        ["spec.selector", "spec.template"]);

    public static ChildKind<V1Service> Service(IKubernetes c) => new(
        (n, ns, ct) => c.CoreV1.ReadNamespacedServiceAsync(n, ns, cancellationToken: ct),
        (o, ns, ct) => c.CoreV1.CreateNamespacedServiceAsync(o, ns, cancellationToken: ct),
        (o, n, ns, ct) => c.CoreV1.ReplaceNamespacedServiceAsync(o, n, ns, cancellationToken: ct),
        ["spec.type", "spec.selector", "spec.ports"]);

    public static ChildKind<V2HorizontalPodAutoscaler> Autoscaler(IKubernetes c) => new(
        (n, ns, ct) => c.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync(n, ns, cancellationToken: ct),
        (o, ns, ct) => c.AutoscalingV2.CreateNamespacedHorizontalPodAutoscalerAsync(o, ns, cancellationToken: ct),
        (o, n, ns, ct) => c.AutoscalingV2.ReplaceNamespacedHorizontalPodAutoscalerAsync(o, n, ns, cancellationToken: ct),
        ["spec"]);

    public static ChildKind<V1PodDisruptionBudget> DisruptionBudget(IKubernetes c) => new(
        (n, ns, ct) => c.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync(n, ns, cancellationToken: ct),
        (o, ns, ct) => c.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(o, ns, cancellationToken: ct),
        (o, n, ns, ct) => c.PolicyV1.ReplaceNamespacedPodDisruptionBudgetAsync(o, n, ns, cancellationToken: ct),
        ["spec"]);

    public static ChildKind<V1ServiceAccount> ServiceAccount(IKubernetes c) => new(
        (n, ns, ct) => c.CoreV1.ReadNamespacedServiceAccountAsync(n, ns, cancellationToken: ct),
        (o, ns, ct) => c.CoreV1.CreateNamespacedServiceAccountAsync(o, ns, cancellationToken: ct),
        (o, n, ns, ct) => c.CoreV1.ReplaceNamespacedServiceAccountAsync(o, n, ns, cancellationToken: ct),
        ["automountServiceAccountToken"]);
}

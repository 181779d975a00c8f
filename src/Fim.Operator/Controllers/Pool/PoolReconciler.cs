using System.Net;
using System.Text.Json.Nodes;
using Fim.Operator.Api;
using Fim.Operator.Runtime;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Fim.Operator.Controllers.Pool;

/// <summary>The child kinds of a pool, each with its cache and its writes.</summary>
public sealed record PoolChildKinds(ChildKind ServiceAccount, ChildKind Deployment, ChildKind Service, ChildKind Autoscaler, ChildKind ScaledObject, ChildKind DisruptionBudget, ChildKind Claim);

/// <summary>A reason (one CamelCase word) and a message for the pool's Degraded condition.</summary>
public sealed record PoolProblem(string Reason, string Message, bool Terminal = false);

/// <summary>
/// Applies PoolDesiredState with server-side apply, reading children from the informer caches. Each applied
/// configuration carries a hash of itself (annotation fim.io/applied-hash), so a child whose cached state holds
/// everything the operator applies is in sync, also after a restart or failover; a field dropped from the
/// configuration changes the hash and is applied away. Deletes the autoscaler kind the pool no longer uses. Writes
/// status when it changed.
/// </summary>
public sealed class PoolReconciler(
    IKubernetes client,
    ResourceClient pools,
    EventRecorder events,
    PoolChildKinds kinds,
    PoolReferences references,
    TimeSpan refresh,
    ILogger logger,
    Notifications.INotificationPublisher? notifications = null) : IReconciler<FimManagerPool>
{
    public const string AppliedHashAnnotation = "fim.io/applied-hash";

    public async Task<ReconcileResult> ReconcileAsync(string key, FimManagerPool? pool, CancellationToken ct)
    {
        if (pool is null || pool.Metadata.DeletionTimestamp is not null)
        {
            return ReconcileResult.Done; // children go with their ownerReferences
        }

        var ns = pool.Metadata.NamespaceProperty;
        var problems = new List<PoolProblem>();
        var invalid = PoolDesiredState.SpecProblems(pool.Spec);
        if (invalid.Count > 0)
        {
            // Terminal: nothing is applied until the spec changes (the CRD's CEL rules refuse this on a real API server).
            problems.AddRange(invalid.Select(p => new PoolProblem("InvalidSpec", p, Terminal: true)));
        }
        else
        {
            // The store's Secrets first: without them the managers cannot start, and nothing retrying can change that
            // (their arrival wakes the pool). Terminal, after the children are applied, so the pods start once they exist.
            IReadOnlyCollection<string>? KeysOf(string secret) => references.Secret(ns, secret) is { } s ? (s.Data?.Keys ?? []).ToList() : null;
            problems.AddRange(PoolStoreSettings.Missing(pool, KeysOf)
                .Select(m => new PoolProblem("StoreSecretMissing", m, Terminal: true)));
            problems.AddRange(PoolDesiredState.SecretReferences(pool.Spec)
                .Where(r => references.Secret(ns, r.Secret) is null)
                .Select(r => new PoolProblem("SecretMissing", $"Secret {ns}/{r.Secret} ({r.Field}) not found")));
            problems.AddRange(PoolDesiredState.ConfigMapReferences(pool.Spec)
                .Where(r => references.ConfigMap(ns, r.ConfigMap) is null)
                .Select(r => new PoolProblem("ConfigMapMissing", $"ConfigMap {ns}/{r.ConfigMap} ({r.Field}) not found")));
            var desired = PoolDesiredState.Build(pool, PoolDesiredState.ConfigVersions(pool.Spec,
                secret => references.Secret(ns, secret)?.Metadata.ResourceVersion, config => references.ConfigMap(ns, config)?.Metadata.ResourceVersion));
            await SyncAsync(pool, desired.ServiceAccount, kinds.ServiceAccount, problems, ct);
            await SyncAsync(pool, desired.Deployment, kinds.Deployment, problems, ct);
            await SyncAsync(pool, desired.Service, kinds.Service, problems, ct);
            await SyncAsync(pool, desired.Autoscaler, kinds.Autoscaler, problems, ct);
            await SyncAsync(pool, desired.ScaledObject, kinds.ScaledObject, problems, ct);
            await SyncAsync(pool, desired.DisruptionBudget, kinds.DisruptionBudget, problems, ct);
            if (desired.Claim is not null)
            {
                // Never deleted here when the pool stops wanting it (PostgreSQL, an existing claim): it holds the alerts.
                await SyncAsync(pool, desired.Claim, kinds.Claim, problems, ct);
            }
        }

        var name = pool.Metadata.Name;
        var deployment = Typed<V1Deployment>(kinds.Deployment.Cache.Get(ns, name));
        var hpa = Typed<V2HorizontalPodAutoscaler>(kinds.Autoscaler.Cache.Get(ns, name));
        var status = PoolStatusCalculator.Compute(pool, deployment, hpa, problems, DateTime.UtcNow);
        if (!PoolStatusCalculator.Same(pool.Status, status))
        {
            await pools.PatchStatusAsync(ns, name, status, ct);
            if (Conditions.IsTrue(status.Conditions, "Degraded") && !Conditions.IsTrue(pool.Status?.Conditions, "Degraded"))
            {
                var c = Conditions.Find(status.Conditions, "Degraded")!;
                await events.RecordAsync(pool, "Warning", c.Reason ?? "Degraded", c.Message ?? "", ct);
            }

            await NotifyScalingAsync(pool, status, hpa, deployment, ct);
        }

        if (problems.FirstOrDefault(p => p.Terminal) is { } terminal)
        {
            throw new TerminalReconcileException(terminal.Reason, terminal.Message);
        }

        return ReconcileResult.After(refresh);
    }

    /// <summary>Desired replicas changed: an Event on the pool and (best effort) a notification for the webhook sink.</summary>
    private async Task NotifyScalingAsync(FimManagerPool pool, FimManagerPoolStatus status, V2HorizontalPodAutoscaler? hpa, V1Deployment? deployment, CancellationToken ct)
    {
        if (PoolScalingNotice.For(pool, pool.Status?.DesiredReplicas, status.DesiredReplicas, hpa, deployment, DateTimeOffset.UtcNow) is not { } notice)
        {
            return;
        }

        logger.LogInformation("pool {Pool}: {Text}", ResourceKey.Of(pool), notice.Text);
        await events.RecordAsync(pool, "Normal", "Scaled", notice.Text, ct);
        if (notifications is null)
        {
            return;
        }

        try
        {
            await notifications.PublishAsync(notice, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Status and the Event already say it; a notification that NATS refused is not worth failing the reconcile.
            logger.LogWarning("pool {Pool}: the scaling notification was not sent: {Error}", ResourceKey.Of(pool), e.Message);
        }
    }

    /// <summary>The configuration with a hash of itself in its annotations.</summary>
    public static JsonObject WithHash(JsonObject desired)
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(desired.ToJsonString())))[..16];
        var meta = (JsonObject)desired["metadata"]!;
        if (meta["annotations"] is not JsonObject annotations)
        {
            annotations = [];
            meta["annotations"] = annotations;
        }

        annotations[AppliedHashAnnotation] = hash;
        return desired;
    }

    private static T? Typed<T>(JsonObject? o)
        where T : class => o is null ? null : KubernetesJson.Deserialize<T>(o.ToJsonString());

    private async Task SyncAsync(FimManagerPool pool, object? desiredObject, ChildKind kind, List<PoolProblem> problems, CancellationToken ct)
    {
        var ns = pool.Metadata.NamespaceProperty;
        var name = pool.Metadata.Name;
        var live = kind.Cache.Get(ns, name);
        var ours = PoolDesiredState.OwnerReference(pool);
        if (desiredObject is null)
        {
            // The autoscaler kind this pool does not use (any more): remove it if it is ours.
            if (live is not null && ChildSync.Ownership(ours, live, PoolLabels.PoolLabel) is { Conflict: null, Adopts: false })
            {
                await kind.DeleteQuietlyAsync(name, ns, ct);
                logger.LogInformation("pool {Pool}: deleted {Kind} {Name}", ResourceKey.Of(pool), kind.Kind, name);
            }

            return;
        }

        var desired = WithHash(ChildSync.Node(desiredObject));
        var json = desired.ToJsonString();
        if (live is not null)
        {
            var ownership = ChildSync.Ownership(ours, live, PoolLabels.PoolLabel);
            if (ownership.Conflict is { } conflict)
            {
                problems.Add(new PoolProblem("ChildConflict", conflict));
                return;
            }

            if (!ownership.Adopts && ChildSync.IsSubset(desired, live))
            {
                return; // in sync; the hash says nothing was dropped from the applied configuration since
            }

            if (ownership.Adopts && !await IsCurrentAsync(pool, ct))
            {
                // A stale cache entry of a pool that is gone or was re-created: adopting for it would point the
                // child at a dead uid and the garbage collector would delete it. The current pool's reconcile follows.
                return;
            }
        }

        try
        {
            await kind.ApplyAsync(json, name, ns, ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity or HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
        {
            // Retrying the same request cannot succeed: say why on the pool, stop retrying until something changes.
            var why = e.Response.StatusCode == HttpStatusCode.NotFound
                ? $"the API server does not serve {kind.Kind} (is its CRD installed?)"
                : $"{kind.Kind} {name} refused: HTTP {(int)e.Response.StatusCode} {StatusMessage(e.Response.Content)}";
            problems.Add(new PoolProblem(e.Response.StatusCode == HttpStatusCode.NotFound ? "KindNotServed" : "ChildRejected", why, Terminal: true));
            return;
        }

        if (live is null && kind.Kind == "Deployment" && desired["spec"]?["replicas"] is null)
        {
            await SetInitialReplicasAsync(pool, kind, ct);
        }

        if (live is null)
        {
            logger.LogInformation("pool {Pool}: created {Kind} {Name}", ResourceKey.Of(pool), kind.Kind, name);
            await events.RecordAsync(pool, "Normal", "Created", $"created {kind.Kind} {name}", ct);
        }
        else
        {
            logger.LogInformation("pool {Pool}: applied {Kind} {Name}", ResourceKey.Of(pool), kind.Kind, name);
        }
    }

    /// <summary>
    /// A new Deployment under an autoscaler starts at replicas.min rather than the API default of 1. Applied by a
    /// field manager of its own that never applies again: the operator's own configuration leaves replicas out, so
    /// the autoscaler's later writes are never undone.
    /// </summary>
    private async Task SetInitialReplicasAsync(FimManagerPool pool, ChildKind kind, CancellationToken ct)
    {
        var (ns, name) = (pool.Metadata.NamespaceProperty, pool.Metadata.Name);
        var body = new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["spec"] = new JsonObject { ["replicas"] = PoolStoreSettings.Replicas(pool.Spec).Min },
        };
        try
        {
            await kind.ApplyAs(body.ToJsonString(), name, ns, ChildKind.InitialReplicasManager, ct);
        }
        catch (HttpOperationException e)
        {
            logger.LogWarning("pool {Pool}: setting the initial replicas: HTTP {Status}", ResourceKey.Of(pool), (int)e.Response.StatusCode);
        }
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

    private static string StatusMessage(string? content)
    {
        try
        {
            var message = content is null ? null : JsonNode.Parse(content)?["message"]?.GetValue<string>();
            return message is null ? "" : message.Length > 300 ? message[..300] : message;
        }
        catch (System.Text.Json.JsonException)
        {
            return "";
        }
    }
}

/// <summary>The operator's caches of the Secrets and ConfigMaps pools refer to, metadata and key names only.</summary>
public sealed record PoolReferences(Func<string, string, V1Secret?> Secret, Func<string, string, V1ConfigMap?> ConfigMap);

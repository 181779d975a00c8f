using System.Net;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Fim.Operator.Runtime;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Fim.Operator.Controllers.Pool;

/// <summary>Reads one child kind from the operator's informer cache.</summary>
public interface IChildCache
{
    JsonObject? Get(string ns, string name);
}

/// <summary>An informer as a child cache (objects as JSON, for comparing with the applied configuration).</summary>
public sealed class InformerChildCache<T, TList>(Informer<T, TList> informer) : IChildCache
    where T : IKubernetesObject<V1ObjectMeta>
    where TList : IItems<T>, IMetadata<V1ListMeta>
{
    public JsonObject? Get(string ns, string name) => informer.Get(ResourceKey.Of(ns, name)) is { } o ? ChildSync.Node(o) : null;
}

/// <summary>
/// How the operator writes one child kind: server-side apply (PATCH application/apply-patch+yaml) as field manager
/// <see cref="FieldManager"/> with force, since every field it applies is one it owns; and delete, for an autoscaler
/// the pool no longer wants.
/// </summary>
public sealed record ChildKind(
    string Kind,
    IChildCache Cache,
    Func<string, string, string, string, CancellationToken, Task> ApplyAs,
    Func<string, string, CancellationToken, Task> Delete)
{
    public const string FieldManager = "fim-operator";

    /// <summary>Sets a Deployment's first replicas and never applies again, so it never takes replicas back from an autoscaler.</summary>
    public const string InitialReplicasManager = "fim-operator-initial-replicas";

    public Task ApplyAsync(string json, string name, string ns, CancellationToken ct) => ApplyAs(json, name, ns, FieldManager, ct);
}

public static class ChildKinds
{
    private static V1Patch Apply(string json) => new(json, V1Patch.PatchType.ApplyPatch);

    public static ChildKind Deployment(IKubernetes c, IChildCache cache) => new("Deployment", cache,
        (json, n, ns, manager, ct) => c.AppsV1.PatchNamespacedDeploymentAsync(Apply(json), n, ns, fieldManager: manager, force: true, cancellationToken: ct),
        (n, ns, ct) => c.AppsV1.DeleteNamespacedDeploymentAsync(n, ns, cancellationToken: ct));

    public static ChildKind Service(IKubernetes c, IChildCache cache) => new("Service", cache,
        (json, n, ns, manager, ct) => c.CoreV1.PatchNamespacedServiceAsync(Apply(json), n, ns, fieldManager: manager, force: true, cancellationToken: ct),
        (n, ns, ct) => c.CoreV1.DeleteNamespacedServiceAsync(n, ns, cancellationToken: ct));

    public static ChildKind ServiceAccount(IKubernetes c, IChildCache cache) => new("ServiceAccount", cache,
        (json, n, ns, manager, ct) => c.CoreV1.PatchNamespacedServiceAccountAsync(Apply(json), n, ns, fieldManager: manager, force: true, cancellationToken: ct),
        (n, ns, ct) => c.CoreV1.DeleteNamespacedServiceAccountAsync(n, ns, cancellationToken: ct));

    public static ChildKind Autoscaler(IKubernetes c, IChildCache cache) => new("HorizontalPodAutoscaler", cache,
        (json, n, ns, manager, ct) => c.AutoscalingV2.PatchNamespacedHorizontalPodAutoscalerAsync(Apply(json), n, ns, fieldManager: manager, force: true, cancellationToken: ct),
        (n, ns, ct) => c.AutoscalingV2.DeleteNamespacedHorizontalPodAutoscalerAsync(n, ns, cancellationToken: ct));

    public static ChildKind DisruptionBudget(IKubernetes c, IChildCache cache) => new("PodDisruptionBudget", cache,
        (json, n, ns, manager, ct) => c.PolicyV1.PatchNamespacedPodDisruptionBudgetAsync(Apply(json), n, ns, fieldManager: manager, force: true, cancellationToken: ct),
        (n, ns, ct) => c.PolicyV1.DeleteNamespacedPodDisruptionBudgetAsync(n, ns, cancellationToken: ct));

    public static ChildKind Claim(IKubernetes c, IChildCache cache) => new("PersistentVolumeClaim", cache,
        (json, n, ns, manager, ct) => c.CoreV1.PatchNamespacedPersistentVolumeClaimAsync(Apply(json), n, ns, fieldManager: manager, force: true, cancellationToken: ct),
        (n, ns, ct) => c.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(n, ns, cancellationToken: ct));

    public static ChildKind ScaledObject(IKubernetes c, IChildCache cache) => new("ScaledObject", cache,
        (json, n, ns, manager, ct) => c.CustomObjects.PatchNamespacedCustomObjectAsync(Apply(json), PoolDesiredState.KedaGroup, PoolDesiredState.KedaVersion, ns, PoolDesiredState.ScaledObjectPlural, n, fieldManager: manager, force: true, cancellationToken: ct),
        (n, ns, ct) => c.CustomObjects.DeleteNamespacedCustomObjectAsync(PoolDesiredState.KedaGroup, PoolDesiredState.KedaVersion, ns, PoolDesiredState.ScaledObjectPlural, n, cancellationToken: ct));

    /// <summary>A 404 on delete is success: the object is gone already.</summary>
    public static async Task DeleteQuietlyAsync(this ChildKind kind, string name, string ns, CancellationToken ct)
    {
        try
        {
            await kind.Delete(name, ns, ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }
}

/// <summary>A KEDA ScaledObject as the operator caches it (spec and status kept as JSON).</summary>
public sealed class KedaScaledObject : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{PoolDesiredState.KedaGroup}/{PoolDesiredState.KedaVersion}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "ScaledObject";

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public JsonObject? Spec { get; set; }

    [JsonPropertyName("status")]
    public JsonObject? Status { get; set; }
}

/// <summary>
/// A Secret as the operator caches it: metadata and the names of its keys, each with an empty value (the values are
/// dropped before caching, they are never read), so a missing key can be named. A ConfigMap: metadata only.
/// </summary>
public static class ReferenceCache
{
    public static V1ConfigMap WithoutData(V1ConfigMap c) => new()
    {
        ApiVersion = c.ApiVersion,
        Kind = c.Kind,
        Metadata = c.Metadata,
    };

    public static V1Secret WithoutData(V1Secret s) => new()
    {
        ApiVersion = s.ApiVersion,
        Kind = s.Kind,
        Metadata = s.Metadata,
        Type = s.Type,
        Data = s.Data?.ToDictionary(kv => kv.Key, _ => Array.Empty<byte>(), StringComparer.Ordinal),
    };
}

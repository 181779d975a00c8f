using Fim.Operator.Api;

namespace Fim.Operator.Controllers.Pool;

/// <summary>Labels on everything the operator creates for a pool; the selector labels pick its pods.</summary>
public static class PoolLabels
{
    public const string ManagedBy = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "fim-operator";
    public const string PoolLabel = "fim.io/pool";

    public static Dictionary<string, string> Selector(string pool) => new()
    {
        ["app.kubernetes.io/name"] = "fim-manager",
        ["app.kubernetes.io/instance"] = pool,
    };

    public static Dictionary<string, string> For(string pool) => new(Selector(pool))
    {
        ["app.kubernetes.io/component"] = "manager",
        [ManagedBy] = ManagedByValue,
        [PoolLabel] = pool,
    };

    /// <summary>The label selector the operator's child informers use.</summary>
    public const string ManagedSelector = ManagedBy + "=" + ManagedByValue;

    public static string? OwnerKey(k8s.Models.V1ObjectMeta meta) =>
        meta.Labels is { } l && l.TryGetValue(PoolLabel, out var pool) && l.TryGetValue(ManagedBy, out var by) && by == ManagedByValue
            ? Runtime.ResourceKey.Of(meta.NamespaceProperty, pool)
            : null;

    public static string ApiVersionKind => $"{FimApi.ApiVersion}/{FimManagerPool.KindName}";
}

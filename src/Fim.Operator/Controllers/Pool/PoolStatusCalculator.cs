using Fim.Operator.Api;
using Fim.Operator.Runtime;
using k8s.Models;

namespace Fim.Operator.Controllers.Pool;

/// <summary>Pure: the pool's status from its live Deployment and HPA and the problems met while applying children.</summary>
public static class PoolStatusCalculator
{
    public static FimManagerPoolStatus Compute(FimManagerPool pool, V1Deployment? deployment, V2HorizontalPodAutoscaler? hpa, IReadOnlyList<PoolProblem> problems, DateTime now)
    {
        var generation = pool.Metadata.Generation;
        var min = PoolStoreSettings.Replicas(pool.Spec).Min;
        var desired = hpa?.Status is { DesiredReplicas: > 0 } hs ? hs.DesiredReplicas : deployment?.Spec?.Replicas ?? min; // an HPA that has not run yet reports 0
        var ready = deployment?.Status?.ReadyReplicas ?? 0;
        var updated = deployment?.Status?.UpdatedReplicas ?? 0;
        var rolloutStale = deployment is not null && (deployment.Status?.ObservedGeneration ?? 0) < (deployment.Metadata.Generation ?? 0);
        var deadline = deployment?.Status?.Conditions?.Any(c => c.Type == "Progressing" && c.Status == "False" && c.Reason == "ProgressDeadlineExceeded") == true;
        var replicaFailure = deployment?.Status?.Conditions?.FirstOrDefault(c => c.Type == "ReplicaFailure" && c.Status == "True");

        var conditions = new List<Condition>
        {
            ready > 0
                ? Conditions.Make("Available", true, "ReplicasReady", $"{ready} of {desired} manager pods ready", generation)
                : Conditions.Make("Available", false, deployment is null ? "DeploymentMissing" : "NoReplicasReady", $"0 of {desired} manager pods ready", generation),
            rolloutStale || updated < desired || ready < desired
                ? Conditions.Make("Progressing", true, "RollingOut", $"{updated} updated, {ready} ready of {desired}", generation)
                : Conditions.Make("Progressing", false, "Stable", $"{ready} of {desired} ready and up to date", generation),
        };
        var degraded = problems.Count > 0
            ? (problems[0].Reason, string.Join("; ", problems.Select(p => p.Message)))
            : deadline ? ("ProgressDeadlineExceeded", "the Deployment rollout exceeded its progress deadline")
            : replicaFailure is not null ? ("ReplicaFailure", replicaFailure.Message ?? "pods cannot be created")
            : (null, null);
        conditions.Add(degraded.Item1 is null
            ? Conditions.Make("Degraded", false, "AsExpected", "no problem found", generation)
            : Conditions.Make("Degraded", true, degraded.Item1, degraded.Item2!, generation));
        conditions.Add(PoolStoreSettings.IsDefaulted(pool.Spec)
            ? Conditions.Make("StoreDefaulted", true, "NoStoreGiven", PoolStoreSettings.DefaultedMessage(pool), generation)
            : Conditions.Make("StoreDefaulted", false, "StoreGiven", "spec.store names the store", generation));

        return new FimManagerPoolStatus
        {
            Conditions = Conditions.Merge(pool.Status?.Conditions, conditions, now),
            ObservedGeneration = generation,
            DesiredReplicas = desired,
            ReadyReplicas = ready,
            PendingEvents = PendingFrom(hpa),
        };
    }

    /// <summary>fim_consumer_pending as the HPA last read it (total = average x current replicas), or null when unknown.</summary>
    public static long? PendingFrom(V2HorizontalPodAutoscaler? hpa)
    {
        var metric = hpa?.Status?.CurrentMetrics?.FirstOrDefault(m => m.Type == "External" && m.External?.Metric?.Name == PoolDesiredState.PendingMetric)?.External?.Current;
        if (metric is null)
        {
            return null;
        }

        if (metric.Value is { } total)
        {
            return (long)total.ToDecimal();
        }

        return metric.AverageValue is { } avg ? (long)(avg.ToDecimal() * Math.Max(1, hpa!.Status.CurrentReplicas ?? 1)) : null;
    }

    /// <summary>Equal apart from lastTransitionTime values that Merge kept: true means no status write is needed.</summary>
    public static bool Same(FimManagerPoolStatus? a, FimManagerPoolStatus b) =>
        a is not null && a.ObservedGeneration == b.ObservedGeneration && a.DesiredReplicas == b.DesiredReplicas
        && a.ReadyReplicas == b.ReadyReplicas && a.PendingEvents == b.PendingEvents && SameConditions(a.Conditions, b.Conditions);

    public static bool SameConditions(IReadOnlyList<Condition>? a, IReadOnlyList<Condition>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a ?? []).All(x => b!.Any(y => y.Type == x.Type && y.Status == x.Status && y.Reason == x.Reason && y.Message == x.Message && y.ObservedGeneration == x.ObservedGeneration));
}

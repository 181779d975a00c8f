using System.Globalization;
using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Runtime;
using k8s.Models;

namespace Fim.Operator.Controllers.Pool;

/// <summary>
/// The notification for a pool whose desired replicas changed (status.desiredReplicas from one value to another), with
/// why: the autoscaler's metrics against their targets and its ScalingLimited condition, or who else sets replicas.
/// </summary>
public static class PoolScalingNotice
{
    public static Notification? For(FimManagerPool pool, int? before, int? after, V2HorizontalPodAutoscaler? hpa, V1Deployment? deployment, DateTimeOffset now)
    {
        if (before is not { } from || after is not { } to || from == to)
        {
            return null; // a first status is no change
        }

        var key = ResourceKey.Of(pool);
        var why = Why(pool, hpa);
        // One id per observed change: a retried reconcile of the same change is stored once (the duplicate window).
        var version = hpa?.Metadata?.ResourceVersion ?? deployment?.Metadata?.ResourceVersion ?? "";
        return new Notification
        {
            Id = $"{Notification.PoolScaled}:{key}:{from}-{to}:{version}",
            Kind = Notification.PoolScaled,
            Time = now,
            Source = "fim-operator",
            Regarding = key,
            Text = $"FIM manager pool {key} scaled {(to > from ? "up" : "down")} from {from} to {to} replicas: {why}",
            Details = new Dictionary<string, string>
            {
                ["pool"] = key,
                ["from"] = from.ToString(CultureInfo.InvariantCulture),
                ["to"] = to.ToString(CultureInfo.InvariantCulture),
                ["reason"] = why,
            },
        };
    }

    public static string Why(FimManagerPool pool, V2HorizontalPodAutoscaler? hpa)
    {
        if (hpa?.Status is { } status)
        {
            var parts = new List<string>();
            foreach (var m in status.CurrentMetrics ?? [])
            {
                if (m.External is { } ext)
                {
                    var target = hpa.Spec?.Metrics?.FirstOrDefault(s => s.External?.Metric?.Name == ext.Metric?.Name)?.External?.Target;
                    var current = ext.Current?.AverageValue ?? ext.Current?.Value;
                    parts.Add($"{ext.Metric?.Name} {current?.ToString() ?? "?"} per replica (target {target?.AverageValue?.ToString() ?? target?.Value?.ToString() ?? "?"})");
                }
                else if (m.Resource is { } res)
                {
                    var target = hpa.Spec?.Metrics?.FirstOrDefault(s => s.Resource?.Name == res.Name)?.Resource?.Target;
                    parts.Add($"{res.Name} {res.Current?.AverageUtilization?.ToString(CultureInfo.InvariantCulture) ?? "?"}% of requests (target {target?.AverageUtilization?.ToString(CultureInfo.InvariantCulture) ?? "?"}%)");
                }
            }

            var limited = status.Conditions?.FirstOrDefault(c => c.Type == "ScalingLimited" && c.Status == "True");
            var text = parts.Count > 0 ? "autoscaler: " + string.Join(", ", parts) : "autoscaler decision (no current metrics reported)";
            return limited is null ? text : $"{text}; limited: {limited.Reason} ({limited.Message})";
        }

        return pool.Spec.Autoscaling?.Provider switch
        {
            PoolAutoscaling.KedaProvider => "KEDA's autoscaler changed the Deployment's replicas",
            _ when pool.Spec.Store?.Postgres is null => "store.sqlite runs one manager",
            PoolAutoscaling.NoProvider => $"spec.replicas.min is {PoolStoreSettings.Replicas(pool.Spec).Min} (autoscaling.provider none)",
            _ => "the Deployment's replicas changed (no autoscaler status yet)",
        };
    }
}

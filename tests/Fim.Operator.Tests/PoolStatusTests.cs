using Fim.Operator.Controllers.Pool;
using Fim.Operator.Runtime;
using k8s.Models;

namespace Fim.Operator.Tests;

public sealed class PoolStatusTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static V1Deployment Deployment(int ready, int replicas = 2) => new()
    {
        Metadata = new V1ObjectMeta { Generation = 1 },
        Spec = new V1DeploymentSpec { Replicas = replicas },
        Status = new V1DeploymentStatus { ObservedGeneration = 1, ReadyReplicas = ready, UpdatedReplicas = ready, Replicas = replicas },
    };

    [Fact]
    public void Ready_pods_make_it_available_and_the_hpa_gives_desired_and_pending()
    {
        var pool = Samples.Stored(Samples.Pool(), generation: 3);
        var hpa = new V2HorizontalPodAutoscaler
        {
            Status = new V2HorizontalPodAutoscalerStatus
            {
                DesiredReplicas = 3,
                CurrentReplicas = 2,
                CurrentMetrics = [new V2MetricStatus { Type = "External", External = new V2ExternalMetricStatus { Metric = new V2MetricIdentifier { Name = "fim_consumer_pending" }, Current = new V2MetricValueStatus { AverageValue = new ResourceQuantity("1500") } } }],
            },
        };
        var s = PoolStatusCalculator.Compute(pool, Deployment(2), hpa, [], T0);
        Assert.Equal((3, 2, 3000L, 3L), (s.DesiredReplicas, s.ReadyReplicas, s.PendingEvents, s.ObservedGeneration));
        Assert.True(Conditions.IsTrue(s.Conditions, "Available"));
        Assert.True(Conditions.IsTrue(s.Conditions, "Progressing"));
        Assert.False(Conditions.IsTrue(s.Conditions, "Degraded"));
    }

    [Fact]
    public void No_hpa_metrics_means_no_pending_and_no_ready_pods_means_unavailable()
    {
        var s = PoolStatusCalculator.Compute(Samples.Stored(Samples.Pool()), Deployment(0), null, [], T0);
        Assert.Null(s.PendingEvents);
        Assert.Equal("NoReplicasReady", Conditions.Find(s.Conditions, "Available")!.Reason);
    }

    [Fact]
    public void Conflicts_degrade_and_transition_times_move_only_with_the_status()
    {
        var pool = Samples.Stored(Samples.Pool());
        var first = PoolStatusCalculator.Compute(pool, Deployment(2), null, [], T0);
        pool.Status = first;
        var same = PoolStatusCalculator.Compute(pool, Deployment(2), null, [], T0.AddMinutes(5));
        Assert.True(PoolStatusCalculator.Same(first, same));
        Assert.Equal(T0, Conditions.Find(same.Conditions, "Available")!.LastTransitionTime);

        var degraded = PoolStatusCalculator.Compute(pool, Deployment(2), null, [new PoolProblem("ChildConflict", "Service managers is controlled by X y")], T0.AddMinutes(6));
        Assert.False(PoolStatusCalculator.Same(first, degraded));
        var c = Conditions.Find(degraded.Conditions, "Degraded")!;
        Assert.Equal(("True", "ChildConflict", T0.AddMinutes(6)), (c.Status, c.Reason, c.LastTransitionTime));
        Assert.Equal(T0, Conditions.Find(degraded.Conditions, "Available")!.LastTransitionTime);
    }
}

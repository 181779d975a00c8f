using Prometheus;

namespace Fim.Operator.Runtime;

/// <summary>The operator's Prometheus metrics (prometheus-net default registry).</summary>
public static class OperatorMetrics
{
    public static readonly Counter Reconciles = Metrics.CreateCounter(
        "fim_operator_reconciles_total", "Reconciles by controller and result.", "controller", "result");

    public static readonly Counter Errors = Metrics.CreateCounter(
        "fim_operator_reconcile_errors_total", "Failed reconciles by controller and error type.", "controller", "error");

    public static readonly Histogram Duration = Metrics.CreateHistogram(
        "fim_operator_reconcile_duration_seconds", "Reconcile duration.", new HistogramConfiguration
        {
            LabelNames = ["controller"],
            Buckets = Histogram.ExponentialBuckets(0.001, 2, 14),
        });

    public static readonly Gauge QueueDepth = Metrics.CreateGauge(
        "fim_operator_queue_depth", "Keys waiting in the work queue.", "controller");

    public static readonly Counter QueueAdds = Metrics.CreateCounter(
        "fim_operator_queue_adds_total", "Keys added to the work queue (not counting keys already waiting).", "controller");

    public static readonly Counter QueueRetries = Metrics.CreateCounter(
        "fim_operator_queue_retries_total", "Keys put back with backoff after a failed reconcile.", "controller");

    public static readonly Histogram QueueLatency = Metrics.CreateHistogram(
        "fim_operator_queue_latency_seconds", "How long a key waited in the work queue before a worker took it.", new HistogramConfiguration
        {
            LabelNames = ["controller"],
            Buckets = Histogram.ExponentialBuckets(0.001, 2, 16),
        });

    public static readonly Gauge Workers = Metrics.CreateGauge(
        "fim_operator_active_workers", "Workers busy reconciling, by controller.", "controller");

    public static readonly Gauge Leader = Metrics.CreateGauge(
        "fim_operator_leader", "1 while this instance holds the leader lease.");

    public static readonly Counter InvalidPolicies = Metrics.CreateCounter(
        "fim_operator_invalid_policies_total", "FimPolicy reconciles that found an invalid spec.");

    public static readonly Counter KvWrites = Metrics.CreateCounter(
        "fim_operator_kv_writes_total", "Puts and deletes in KV fim-policies.", "operation");
}

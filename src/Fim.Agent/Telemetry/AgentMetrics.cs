using Prometheus;

namespace Fim.Agent.Telemetry;

/// <summary>The agent's Prometheus metrics. Names carry the fim_agent_ prefix; counters end in _total.</summary>
public static class AgentMetrics
{
    public static readonly Counter Changes = Metrics.CreateCounter(
        "fim_agent_changes_total", "File changes detected.", "kind", "source");

    public static readonly Counter Rescans = Metrics.CreateCounter(
        "fim_agent_rescans_total", "Rescans run, by reason (schedule, overflow, watch-limit, new-directory...).", "reason");

    public static readonly Counter RealtimeOverflows = Metrics.CreateCounter(
        "fim_agent_realtime_overflows_total", "inotify queue overflows; each one triggers a rescan of the affected roots.");

    public static readonly Counter WatchLimitHits = Metrics.CreateCounter(
        "fim_agent_watch_limit_total", "Directories that could not be watched because the inotify watch limit was reached; they are rescanned on schedule instead.");

    public static readonly Counter SuppressedAlerts = Metrics.CreateCounter(
        "fim_agent_alerts_rate_limited_total", "Alerts summarised instead of printed because the policy's eventsPerSecond cap was reached.");

    public static readonly Counter ScanIssues = Metrics.CreateCounter(
        "fim_agent_scan_issues_total", "Paths a scan could not fully verify.", "kind");

    public static readonly Histogram ScanDuration = Metrics.CreateHistogram(
        "fim_agent_scan_duration_seconds", "Duration of scans.",
        new HistogramConfiguration { LabelNames = ["kind"], Buckets = Histogram.ExponentialBuckets(0.01, 2, 16) });

    public static readonly Gauge BaselineEntries = Metrics.CreateGauge(
        "fim_agent_baseline_entries", "Entries in the baseline.");

    public static readonly Gauge Watches = Metrics.CreateGauge(
        "fim_agent_realtime_watches", "Directories under inotify watch.");
}

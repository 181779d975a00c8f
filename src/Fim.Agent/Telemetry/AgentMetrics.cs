using Prometheus;

namespace Fim.Agent.Telemetry;

/// <summary>The agent's Prometheus metrics. Names carry the fim_agent_ prefix; counters end in _total.</summary>
public static class AgentMetrics
{
    public static readonly Counter Changes = Metrics.CreateCounter(
        "fim_agent_changes_total", "File changes detected.", "kind", "source");

    public static readonly Counter SourceLines = Metrics.CreateCounter(
        "fim_agent_source_lines_total", "Lines of tailed sources, by policy and result: sent, or why not (not-json, not-an-object, missing-field, too-long; truncated counts truncated files).", "policy", "result");

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

    public static readonly Gauge OutboxDepth = Metrics.CreateGauge(
        "fim_agent_outbox_depth", "Events in the durable outbox, not acknowledged by JetStream yet.");

    public static readonly Counter OutboxOverflows = Metrics.CreateCounter(
        "fim_agent_outbox_overflows_total", "Batches of changes not recorded because the outbox was full; the baseline stays behind and is rescanned once the outbox drains.");

    public static readonly Counter Published = Metrics.CreateCounter(
        "fim_agent_events_published_total", "Events acknowledged by JetStream.");

    public static readonly Counter PublishDuplicates = Metrics.CreateCounter(
        "fim_agent_events_duplicate_total", "Publishes JetStream recognised as duplicates (a retry of an event it already stored).");

    public static readonly Counter PublishFailures = Metrics.CreateCounter(
        "fim_agent_publish_failures_total", "Event publishes not acknowledged (retried), by reason.", "reason");

    public static readonly Gauge PolicyRevision = Metrics.CreateGauge(
        "fim_agent_policy_revision", "Revision of each policy being applied.", "policy");

    public static readonly Counter PolicyErrors = Metrics.CreateCounter(
        "fim_agent_policy_errors_total", "Policies that were invalid or failed to run.", "policy");

    public static readonly Counter Commands = Metrics.CreateCounter(
        "fim_agent_commands_total", "Requests answered on the agent's command subject.");
}

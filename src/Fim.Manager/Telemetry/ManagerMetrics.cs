using Prometheus;

namespace Fim.Manager.Telemetry;

/// <summary>
/// The manager's Prometheus metrics, on a registry of its own (so several managers in one test process do not share
/// counters). Served at /metrics. fim_consumer_pending is what the HPA scales on.
/// </summary>
public sealed class ManagerMetrics
{
    public ManagerMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var f = Metrics.WithCustomRegistry(Registry);
        EventsConsumed = f.CreateCounter("fim_events_consumed_total", "Events taken from FIM_EVENTS and settled (acked or terminated).");
        Alerts = f.CreateCounter("fim_alerts_total", "Alerts published to FIM_ALERTS and acked by JetStream.", "level");
        Silenced = f.CreateCounter("fim_events_silenced_total", "Valid events no rule alerts on (level 0 or no match).");
        ProcessingSeconds = f.CreateHistogram("fim_event_processing_seconds", "From taking an event to settling it (validate, rules, alert publish, ack).",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });
        Deduplicated = f.CreateCounter("fim_alerts_deduplicated_total", "Alert or dead-letter publishes JetStream recognised as already stored (a redelivered event).");
        Redeliveries = f.CreateCounter("fim_event_redeliveries_total", "Events delivered more than once (a manager died, a nak, an ack timeout).");
        DeadLetters = f.CreateCounter("fim_dead_letters_total", "Messages copied to FIM_DEADLETTER, by reason.", "reason");
        TransientFailures = f.CreateCounter("fim_event_transient_failures_total", "Events nak'ed for a retry after a publish failure.");
        UnknownAgentEvents = f.CreateCounter("fim_unknown_agent_events_total", "Events from agents with no heartbeat in KV fim-agents (processed, tagged unknown-agent).");
        ConsumerPending = f.CreateGauge("fim_consumer_pending", "num_pending + num_ack_pending of the fim-managers consumer.");
        SinkDeliveries = f.CreateCounter("fim_sink_deliveries_total", "Alerts handed to a sink, by sink and result.", "sink", "result");
        Ingested = f.CreateCounter("fim_ingest_records_total", "Records posted to the ingest endpoint, by format and result (accepted, rejected reason).", "format", "result");
        Ready = f.CreateGauge("fim_manager_ready", "1 when connected to NATS with the consumer bound.");
        AgentLastHeartbeat = f.CreateGauge("fim_agent_last_heartbeat_timestamp_seconds",
            "When each agent's heartbeat was last stored in KV fim-agents (Unix seconds); FimAgentSilent fires on its age.", "agent");
        ConsolePageSeconds = f.CreateHistogram("fim_console_page_seconds",
            "Server time of a web console page, by page: from a navigation or changed filter to the render that shows the result.",
            new HistogramConfiguration { LabelNames = ["page"], Buckets = [.. ConsolePageBuckets] });
        Prometheus.DotNetStats.Register(Registry);
    }

    /// <summary>Fine around the console's target (a page in 200 ms at the 95th percentile), so the quantile is read closely.</summary>
    public static readonly double[] ConsolePageBuckets = [0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5];

    public CollectorRegistry Registry { get; }
    public Counter EventsConsumed { get; }
    public Counter Ingested { get; }
    public Counter Alerts { get; }
    public Counter Silenced { get; }
    public Histogram ProcessingSeconds { get; }
    public Counter Redeliveries { get; }
    public Counter Deduplicated { get; }
    public Counter DeadLetters { get; }
    public Counter TransientFailures { get; }
    public Counter UnknownAgentEvents { get; }
    public Gauge ConsumerPending { get; }
    public Counter SinkDeliveries { get; }
    public Gauge Ready { get; }
    public Gauge AgentLastHeartbeat { get; }
    public Histogram ConsolePageSeconds { get; }
}

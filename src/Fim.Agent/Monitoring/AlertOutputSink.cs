using Fim.Agent.Output;
using Fim.Agent.Telemetry;
using Fim.Core.Baseline;

namespace Fim.Agent.Monitoring;

/// <summary>The standalone agent's sink: print alerts (capped by the policy's eventsPerSecond), then commit the baseline.</summary>
public sealed class AlertOutputSink(IAlertOutput output, AlertFactory alerts, int eventsPerSecond, TimeProvider time) : IChangeSink
{
    private readonly AlertRateLimiter _rateLimiter = new(eventsPerSecond, time);

    public bool CanAccept => true;

    public bool Commit(MonitorSession session, ChangeBatch batch)
    {
        // Alerts first, then the baseline: a crash in between re-detects the change and prints it again (at least
        // once), where the other order would record it as seen and never print it. Stdout has no outbox.
        foreach (var change in batch.Changes)
        {
            var (e, alert) = alerts.Judge(change);
            if (_rateLimiter.TryAcquire())
            {
                output.Write(e, alert);
            }
            else
            {
                AgentMetrics.SuppressedAlerts.Inc();
            }
        }
        if (_rateLimiter.TakeSuppressed() is > 0 and var n)
        {
            output.Notice($"{n} more changes were not printed: the policy caps output at {eventsPerSecond}/s (all are in the baseline)");
        }
        session.Commit(batch.Updates, [], batch.Snapshot);
        return true;
    }

    public void Notice(string message) => output.Notice(message);
}

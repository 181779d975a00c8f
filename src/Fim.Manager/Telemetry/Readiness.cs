using Fim.Manager.Nats;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Fim.Manager.Telemetry;

/// <summary>What /readyz reports: NATS connected, the fim-managers consumer bound, the agent directory loaded, the max-deliveries advisories watched.</summary>
public sealed class Readiness(NatsConnector nats, ManagerMetrics metrics) : IHealthCheck
{
    private volatile bool _consumerBound;
    private volatile bool _agentsLoaded;
    private volatile bool _maxDeliveriesWatched;

    public bool ConsumerBound
    {
        get => _consumerBound;
        set => _consumerBound = value;
    }

    public bool AgentsLoaded
    {
        get => _agentsLoaded;
        set => _agentsLoaded = value;
    }

    /// <summary>Subscribed to the consumer's max-deliveries advisories (so no event is abandoned unseen).</summary>
    public bool MaxDeliveriesWatched
    {
        get => _maxDeliveriesWatched;
        set => _maxDeliveriesWatched = value;
    }

    public bool IsReady => nats.IsConnected && _consumerBound && _agentsLoaded && _maxDeliveriesWatched;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var ready = IsReady;
        metrics.Ready.Set(ready ? 1 : 0);
        var data = new Dictionary<string, object>
        {
            ["natsConnected"] = nats.IsConnected,
            ["consumerBound"] = _consumerBound,
            ["agentsLoaded"] = _agentsLoaded,
            ["maxDeliveriesWatched"] = _maxDeliveriesWatched,
        };
        return Task.FromResult(ready
            ? HealthCheckResult.Healthy("ready", data)
            : HealthCheckResult.Unhealthy("not ready", data: data));
    }
}

using Fim.Manager.Nats;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Fim.Manager.Telemetry;

/// <summary>What /readyz reports: NATS connected, the fim-managers consumer bound, the agent directory loaded.</summary>
public sealed class Readiness(NatsConnector nats, ManagerMetrics metrics) : IHealthCheck
{
    private volatile bool _consumerBound;
    private volatile bool _agentsLoaded;

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

    public bool IsReady => nats.IsConnected && _consumerBound && _agentsLoaded;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var ready = IsReady;
        metrics.Ready.Set(ready ? 1 : 0);
        var data = new Dictionary<string, object>
        {
            ["natsConnected"] = nats.IsConnected,
            ["consumerBound"] = _consumerBound,
            ["agentsLoaded"] = _agentsLoaded,
        };
        return Task.FromResult(ready
            ? HealthCheckResult.Healthy("ready", data)
            : HealthCheckResult.Unhealthy("not ready", data: data));
    }
}

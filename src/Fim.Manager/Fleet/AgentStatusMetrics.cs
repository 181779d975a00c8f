using Fim.Manager.Telemetry;
using Prometheus;

namespace Fim.Manager.Fleet;

/// <summary>
/// fim_agents{status="active|disconnected|removed"}: agents by lifecycle status, counted from the manager's view of KV
/// fim-agents and fim-agent-removals at each scrape (so the status follows the clock, not the last heartbeat). Every
/// manager of a pool exports the same figures; rules take the max over them. FimAgentsDisconnected fires on it.
/// </summary>
public sealed class AgentStatusMetrics : IHostedService
{
    public const string Name = "fim_agents";

    private readonly AgentLifecycle _lifecycle;
    private readonly Gauge _agents;

    public AgentStatusMetrics(ManagerMetrics metrics, AgentLifecycle lifecycle)
    {
        _lifecycle = lifecycle;
        _agents = Metrics.WithCustomRegistry(metrics.Registry)
            .CreateGauge(Name, "Agents by lifecycle status: active (heartbeat within Fim:Fleet:DisconnectedAfter), disconnected, removed (pruned).", "status");
        metrics.Registry.AddBeforeCollectCallback(Update);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Update();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Update()
    {
        var counts = _lifecycle.List(AgentLifecycle.All).GroupBy(v => v.Status).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        foreach (var status in new[] { AgentLifecycle.Active, AgentLifecycle.Disconnected, AgentLifecycle.Removed })
        {
            _agents.WithLabels(status).Set(counts.GetValueOrDefault(status));
        }
    }
}

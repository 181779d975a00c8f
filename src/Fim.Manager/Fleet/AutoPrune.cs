using Fim.Contracts;
using Fim.Manager.Agents;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Fleet;

/// <summary>
/// Removes agents disconnected for longer than <see cref="FleetOptions.PruneAfter"/>, every
/// <see cref="FleetOptions.PruneInterval"/>; off when PruneAfter is zero. Every manager may run it: the
/// compare-and-set in <see cref="AgentLifecycle"/> lets exactly one remove each agent.
/// </summary>
public sealed class AutoPrune(AgentDirectory agents, AgentLifecycle lifecycle, IOptions<FleetOptions> options, TimeProvider time, ILogger<AutoPrune> log)
    : BackgroundService
{
    public static string Principal { get; } = $"manager:{Environment.MachineName}:{Environment.ProcessId}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (o.PruneAfter <= TimeSpan.Zero)
        {
            return;
        }
        log.LogInformation("agents disconnected for {PruneAfter} are removed automatically (checked every {Interval})", o.PruneAfter, o.PruneInterval);
        using var timer = new PeriodicTimer(o.PruneInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var cutoff = time.GetUtcNow() - o.PruneAfter;
                var due = agents.All.Where(a => a.LastSeen <= cutoff && lifecycle.StatusOf(a) == AgentLifecycle.Disconnected).ToList();
                if (due.Count > 0)
                {
                    await lifecycle.PruneAsync(due, cutoff, Principal, AgentRemoval.ByAutoPrune, stoppingToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // NATS away: the next tick tries again.
                log.LogWarning("automatic prune failed, trying again in {Interval}: {Error}", o.PruneInterval, e.Message);
            }
        }
    }
}

using Fim.Core.Policy;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fim.Agent.Connected;

/// <summary>
/// Starts what needs no NATS: the stores left with undelivered events and the local policy file; on shutdown stops
/// every policy's monitoring (registered first, so the host stops it last).
/// </summary>
public sealed class MonitoringLifecycle(
    PolicySupervisor supervisor,
    StateStores stores,
    Outbox outbox,
    IOptions<AgentOptions> options,
    ILogger<MonitoringLifecycle> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var waiting = stores.OpenLeftovers();
        if (waiting > 0)
        {
            logger.LogInformation("{Count} events from an earlier run wait in the outbox; they are sent first", waiting);
            outbox.Signal();
        }
        if (options.Value.PolicyFile is { Length: > 0 } file)
        {
            await supervisor.ApplyAsync(AssignedPolicy.Local(PolicyCompiler.LoadAndCompile(file)));
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await supervisor.StopAllAsync();
}

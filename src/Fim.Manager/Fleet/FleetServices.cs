using Microsoft.Extensions.Options;

namespace Fim.Manager.Fleet;

/// <summary>Registers the agent lifecycle (status, removals, automatic prune) and the live fleet query.</summary>
public static class FleetServices
{
    public static IServiceCollection AddFimFleet(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<FleetOptions>().Bind(config.GetSection(FleetOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FleetOptions>, FleetOptionsValidator>();
        services.AddSingleton<AgentRemovals>();
        services.AddHostedService(sp => sp.GetRequiredService<AgentRemovals>());
        services.AddSingleton<AgentLifecycle>();
        services.AddSingleton<AgentPrunes>();
        services.AddHostedService<AutoPrune>();
        services.AddHostedService<AgentStatusMetrics>();
        return services;
    }
}

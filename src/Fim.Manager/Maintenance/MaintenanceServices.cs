using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Maintenance;

/// <summary>Registers maintenance windows: options, the KV-backed window cache and its watch.</summary>
public static class MaintenanceServices
{
    public static IServiceCollection AddFimMaintenance(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<MaintenanceOptions>().Bind(config.GetSection(MaintenanceOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MaintenanceOptions>, MaintenanceOptionsValidator>();
        services.TryAddSingleton(sp => new MaintenanceClock(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<MaintenanceWindows>();
        services.AddSingleton<MaintenanceAccess>();
        services.AddHostedService(sp => sp.GetRequiredService<MaintenanceWindows>());
        services.AddSingleton<MaintenanceSummaries>();
        services.AddHostedService(sp => sp.GetRequiredService<MaintenanceSummaries>());
        return services;
    }
}

/// <summary>
/// The clock windows open and close by: the manager's TimeProvider, separate so a test can run windows on a fake clock
/// while the rest of the manager (retries, timers) keeps real time.
/// </summary>
public sealed record MaintenanceClock(TimeProvider Time);

using Microsoft.Extensions.Options;

namespace Fim.Manager.Maintenance;

/// <summary>Registers maintenance windows: options, the KV-backed window cache and its watch.</summary>
public static class MaintenanceServices
{
    public static IServiceCollection AddFimMaintenance(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<MaintenanceOptions>().Bind(config.GetSection(MaintenanceOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MaintenanceOptions>, MaintenanceOptionsValidator>();
        services.AddSingleton<MaintenanceWindows>();
        services.AddHostedService(sp => sp.GetRequiredService<MaintenanceWindows>());
        return services;
    }
}

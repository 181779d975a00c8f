using Fim.Manager.Options;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Store;

public static class StoreServices
{
    /// <summary>The alert store chosen by Fim:Store:Backend, and its indexer.</summary>
    public static IServiceCollection AddFimStore(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<StoreOptions>().Bind(config.GetSection(StoreOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StoreOptions>, StoreOptionsValidator>();
        services.AddSingleton<IAlertStore>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<StoreOptions>>().Value;
            return o.Backend == StoreOptions.Postgres ? new PostgresAlertStore(o.ConnectionString!) : new SqliteAlertStore(o.SqlitePath);
        });
        services.AddHostedService<AlertIndexer>();
        services.AddSingleton<IScanStore>(sp => (IScanStore)sp.GetRequiredService<IAlertStore>());
        services.AddHostedService<ScanIndexer>();
        return services;
    }
}

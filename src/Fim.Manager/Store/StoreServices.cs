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
            return o.Backend == StoreOptions.Postgres ? new PostgresAlertStore(PostgresConnection.Build(o)) : new SqliteAlertStore(o.SqlitePath);
        });
        // Reviews and the audit log live in the same database, behind their own interfaces.
        services.AddSingleton(sp => (IAlertReviews)sp.GetRequiredService<IAlertStore>());
        services.AddSingleton(sp => (IAuditStore)sp.GetRequiredService<IAlertStore>());
        services.AddHostedService<AlertIndexer>();
        services.AddSingleton<IScanStore>(sp => (IScanStore)sp.GetRequiredService<IAlertStore>());
        services.AddHostedService<ScanIndexer>();
        services.AddHostedService<UnreviewedAlertsPublisher>();
        return services;
    }
}

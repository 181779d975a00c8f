using Fim.Manager.Store;

namespace Fim.Manager.Audit;

public static class AuditServices
{
    /// <summary>The audit log's writer (a gRPC interceptor, registered with AddGrpc) and its checkpoint.</summary>
    public static IServiceCollection AddFimAudit(this IServiceCollection services)
    {
        services.AddSingleton<AuditedMethods>();
        services.AddSingleton<IAuditCheckpoint, NatsAuditCheckpoint>();
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<AuditInterceptor>();
        return services;
    }
}

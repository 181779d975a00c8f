using Microsoft.Extensions.Options;

namespace Fim.Manager.Enrollment;

/// <summary>Registers enrollment (responder, stores, account pushes) and event provenance (signatures, event id registry).</summary>
public static class EnrollmentServices
{
    public static IServiceCollection AddFimEnrollment(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<EnrollmentOptions>().Bind(config.GetSection(EnrollmentOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EnrollmentOptions>, EnrollmentOptionsValidator>();
        services.AddSingleton<EnrollmentBuckets>();
        services.AddSingleton<EnrollmentKeys>();
        services.AddSingleton<IdentityDirectory>();
        services.AddHostedService(sp => sp.GetRequiredService<IdentityDirectory>());
        services.AddSingleton<JoinTokens>();
        services.AddSingleton<JoinTokenFile>();
        services.AddHostedService(sp => sp.GetRequiredService<JoinTokenFile>());
        services.AddSingleton<AccountPublisher>();
        services.AddSingleton<EnrollmentAdmin>();
        services.AddSingleton<EnrollmentResponder>();
        services.AddHostedService(sp => sp.GetRequiredService<EnrollmentResponder>());
        services.AddSingleton<EventIdClaims>();
        services.AddSingleton<EventProvenance>();
        return services;
    }
}

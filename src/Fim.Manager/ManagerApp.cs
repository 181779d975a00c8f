using System.Net;
using System.Security.Cryptography.X509Certificates;
using Fim.Core.Rules;
using Fim.Manager.Agents;
using Fim.Manager.Api;
using Fim.Manager.Enrollment;
using Fim.Manager.Maintenance;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Manager.Pipeline;
using Fim.Manager.Resilience;
using Fim.Manager.Security;
using Fim.Manager.Sinks;
using Fim.Manager.Store;
using Fim.Manager.Telemetry;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using Prometheus;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Fim.Manager;

/// <summary>Builds the manager: options, NATS, pipeline, sinks, API, health and metrics. Program and tests share it.</summary>
public static class ManagerApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // The manager's own name, not the entry assembly's: tests host it in-process, and static web assets are found by it.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ApplicationName = typeof(ManagerApp).Assembly.GetName().Name });
        configure?.Invoke(builder);
        var services = builder.Services;
        var config = builder.Configuration;

        AddValidatedOptions<NatsOptions, NatsOptionsValidator>(services, config, NatsOptions.Section);
        AddValidatedOptions<PipelineOptions, PipelineOptionsValidator>(services, config, PipelineOptions.Section);
        AddValidatedOptions<RulesOptions, RulesOptionsValidator>(services, config, RulesOptions.Section);
        AddValidatedOptions<SinkOptions, SinkOptionsValidator>(services, config, SinkOptions.Section);
        AddValidatedOptions<ApiOptions, ApiOptionsValidator>(services, config, ApiOptions.Section);
        AddValidatedOptions<AuthOptions, AuthOptionsValidator>(services, config, AuthOptions.Section);
        AddValidatedOptions<WebConsole.ConsoleOptions, WebConsole.ConsoleOptionsValidator>(services, config, WebConsole.ConsoleOptions.Section);
        services.AddOptions<TelemetryOptions>().Bind(config.GetSection(TelemetryOptions.Section));

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ManagerMetrics>();
        services.AddSingleton<ManagerRetries>();
        services.AddSingleton<NatsConnector>();
        services.AddSingleton<Readiness>();
        services.AddSingleton<StreamTopology>();
        services.AddSingleton<AgentDirectory>();
        services.AddHostedService(sp => sp.GetRequiredService<AgentDirectory>());

        services.AddSingleton(sp => RuleLoader.LoadRuleSet(sp.GetRequiredService<IOptions<RulesOptions>>().Value.Files));
        services.AddSingleton(sp => new EventValidator(sp.GetRequiredService<IOptions<PipelineOptions>>().Value.MaxEventBytes));
        services.AddFimEnrollment(config);
        services.AddFimMaintenance(config);
        Fleet.FleetServices.AddFimFleet(services, config);
        services.AddSingleton<EventJudge>();
        services.AddSingleton<EventProcessor>();
        services.AddSingleton<EventSettler>();
        services.AddSingleton<TakenIdSettler>();
        services.AddHostedService<EventPipeline>();
        services.AddHostedService<MaxDeliveriesWatch>();
        services.AddHostedService<PendingGauge>();

        services.TryAddSingleton(_ => AlertOutput.Stdout());
        services.AddSingleton<StdoutAlertSink>();
        services.AddSingleton<WebhookAlertSink>();
        services.AddSingleton<SyslogAlertSink>();
        // The default HttpClient logging writes request URLs, and a webhook URL is a secret.
        // No automatic redirects: the sink decides (WebhookRedirects), and never follows one to another host.
        services.AddHttpClient(WebhookAlertSink.HttpClientName).RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
            .AddResilienceHandler(WebhookAlertSink.HttpClientName, (pipeline, context) =>
                WebhookAlertSink.ConfigureResilience(pipeline, context.ServiceProvider.GetRequiredService<IOptions<SinkOptions>>().Value.Webhook));
        services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<AlertSinkWorker>(sp, sp.GetRequiredService<StdoutAlertSink>()));
        services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<AlertSinkWorker>(sp, sp.GetRequiredService<WebhookAlertSink>()));
        services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<AlertSinkWorker>(sp, sp.GetRequiredService<SyslogAlertSink>()));
        services.AddHostedService<WebhookNotificationWorker>();
        services.AddHostedService<EmailDigestWorker>();

        services.AddFimStore(config);
        services.AddSingleton<Scans.ComplianceReportBuilder>();
        services.AddSingleton<Scans.ComplianceReports>();
        services.AddSingleton<AuditAccess>();
        services.AddSingleton<StreamQuery>();
        services.AddSingleton<AlertAccess>();
        services.AddSingleton<ScanCoalescer>();
        services.AddSingleton<AgentScans>();
        services.AddSingleton<ApiTokens>();
        services.AddFimSecurity(config);
        Audit.AuditServices.AddFimAudit(services);
        WebConsole.ConsoleServices.AddFimConsole(builder);
        var apiOptions = config.GetSection(ApiOptions.Section).Get<ApiOptions>() ?? new ApiOptions();
        services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = apiOptions.MaxRequestBytes;
            // Error details go to the caller as the status message we chose; exception text never does.
            o.EnableDetailedErrors = false;
            // Every mutating call, whatever its service, goes through this one writer of the audit log.
            o.Interceptors.Add<Audit.AuditInterceptor>();
        }).AddJsonTranscoding();
        services.AddHealthChecks().Add(new HealthCheckRegistration("ready", sp => sp.GetRequiredService<Readiness>(), HealthStatus.Unhealthy, ["ready"]));

        var telemetry = config.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        services.AddSerilog((_, log) => log
            .MinimumLevel.Is(Enum.TryParse<LogEventLevel>(telemetry.LogLevel, true, out var level) ? level : LogEventLevel.Information)
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("NATS", LogEventLevel.Warning)
            // The audit trail is not noise: it stays on whatever the level.
            .MinimumLevel.Override(AuditLog.Category, LogEventLevel.Information)
            .Enrich.FromLogContext()
            // stderr: stdout carries alerts only (the stdout sink).
            .WriteTo.Console(new RenderedCompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Verbose));
        if (!string.IsNullOrWhiteSpace(telemetry.OtlpEndpoint))
        {
            services.AddOpenTelemetry().WithTracing(t => t
                .AddSource(ManagerTracing.SourceName)
                .AddAspNetCoreInstrumentation()
                .AddOtlpExporter(o => o.Endpoint = new Uri(telemetry.OtlpEndpoint)));
        }

        builder.WebHost.ConfigureKestrel((context, kestrel) => ConfigureEndpoints(kestrel, context.Configuration));

        var app = builder.Build();
        ValidateAllOptions(app.Services);
        var api = app.Services.GetRequiredService<IOptions<ApiOptions>>().Value;
        if (api.HealthPort > 0)
        {
            app.Use((context, next) => HealthPortSplitAsync(context, next, api.HealthPort));
        }
        app.UseRouting();
        app.UseFimSecurity();
        WebConsole.ConsoleServices.UseFimConsole(app);
        app.MapGrpcService<FimManagerService>();
        app.MapGrpcService<EnrollmentGrpcService>();
        app.MapGrpcService<MaintenanceGrpcService>();
        app.MapGrpcService<Fleet.FleetGrpcService>();
        app.MapGrpcService<Scans.ScansGrpcService>();
        app.MapFimLogin(app.Services.GetRequiredService<IOptions<AuthOptions>>().Value);
        WebConsole.ConsoleServices.MapFimConsole(app);
        Ingest.IngestEndpoint.Map(app);
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = r => r.Tags.Contains("ready") }).AllowAnonymous();
        app.MapMetrics("/metrics", app.Services.GetRequiredService<ManagerMetrics>().Registry).AllowAnonymous();
        return app;
    }

    /// <summary>The unauthenticated paths (probes, metrics) on the health port only, and nothing else there.</summary>
    public static readonly IReadOnlyList<string> HealthPaths = ["/healthz", "/readyz", "/metrics"];

    private static Task HealthPortSplitAsync(HttpContext context, RequestDelegate next, int healthPort)
    {
        var health = HealthPaths.Contains(context.Request.Path.Value ?? "", StringComparer.Ordinal);
        if (health != (context.Connection.LocalPort == healthPort))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        return next(context);
    }

    /// <summary>Every "Section:Key: problem" in what a failed start threw (one section's exception, or several aggregated).</summary>
    public static IReadOnlyList<string> ConfigurationFailures(Exception error) => error switch
    {
        OptionsValidationException e => [.. e.Failures],
        AggregateException e => [.. e.InnerExceptions.SelectMany(ConfigurationFailures)],
        _ => [],
    };

    /// <summary>
    /// Validates every options section before anything starts and reports all problems at once (ValidateOnStart alone
    /// stops at the first service that reads a bad section).
    /// </summary>
    private static void ValidateAllOptions(IServiceProvider services)
    {
        var failures = new List<string>();
        void Check<T>()
            where T : class
        {
            try
            {
                _ = services.GetRequiredService<IOptions<T>>().Value;
            }
            catch (OptionsValidationException e)
            {
                failures.AddRange(e.Failures);
            }
        }
        Check<NatsOptions>();
        Check<PipelineOptions>();
        Check<RulesOptions>();
        Check<SinkOptions>();
        Check<ApiOptions>();
        Check<EnrollmentOptions>();
        Check<MaintenanceOptions>();
        Check<Fleet.FleetOptions>();
        Check<AuthOptions>();
        Check<StoreOptions>();
        Check<WebConsole.ConsoleOptions>();
        if (failures.Count > 0)
        {
            throw new OptionsValidationException("Fim", typeof(ManagerApp), failures);
        }
    }

    private static void AddValidatedOptions<TOptions, TValidator>(IServiceCollection services, IConfiguration config, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().Bind(config.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
    }

    /// <summary>
    /// Plaintext: HttpPort speaks HTTP/1.1 (REST, /metrics, probes) and GrpcPort HTTP/2 cleartext (gRPC). With TLS both
    /// offer HTTP/1.1 and HTTP/2 by ALPN, so one port serves everything.
    /// </summary>
    private static void ConfigureEndpoints(KestrelServerOptions kestrel, IConfiguration config)
    {
        var api = config.GetSection(ApiOptions.Section).Get<ApiOptions>() ?? new ApiOptions();
        // An unparsable address fails validation before this runs; loopback is only the fallback for that start.
        var address = IPAddress.TryParse(api.Address, out var parsed) ? parsed : IPAddress.Loopback;
        kestrel.Limits.MaxRequestBodySize = api.MaxRequestBytes;
        kestrel.ConfigureHttpsDefaults(https => https.SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
        // GET /api/v1/agents/{id}/history?path=... carries the path in the request line: room for the longest path an
        // event may hold (EventLimits.MaxPathLength), percent-encoded, instead of Kestrel's 8 KiB default.
        kestrel.Limits.MaxRequestLineSize = Math.Max(kestrel.Limits.MaxRequestLineSize, (Fim.Contracts.EventLimits.MaxPathLength * 3) + 1024);
        kestrel.Limits.MaxRequestHeadersTotalSize = Math.Max(kestrel.Limits.MaxRequestHeadersTotalSize, kestrel.Limits.MaxRequestLineSize);
        X509Certificate2? certificate = null;
        if (api.HasTls && api.TlsKeyFile is not null && File.Exists(api.TlsCertFile) && File.Exists(api.TlsKeyFile))
        {
            certificate = X509Certificate2.CreateFromPemFile(api.TlsCertFile!, api.TlsKeyFile);
        }
        void Listen(int port, HttpProtocols plaintext)
        {
            if (port is <= 0 or > 65535)
            {
                return;
            }
            kestrel.Listen(address, port, listen =>
            {
                listen.Protocols = certificate is null ? plaintext : HttpProtocols.Http1AndHttp2;
                if (certificate is not null)
                {
                    listen.UseHttps(certificate, https => https.SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
                }
            });
        }
        Listen(api.HttpPort, HttpProtocols.Http1);
        Listen(api.GrpcPort, HttpProtocols.Http2);
        if (api.HealthPort > 0)
        {
            var healthAddress = IPAddress.TryParse(api.HealthAddress, out var h) ? h : address;
            kestrel.Listen(healthAddress, api.HealthPort, listen => listen.Protocols = HttpProtocols.Http1);
        }
    }
}

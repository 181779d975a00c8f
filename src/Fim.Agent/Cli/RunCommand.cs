using System.CommandLine;
using Fim.Agent.Connected;
using Fim.Core.Policy;
using Fim.Nats;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using Prometheus;
using Serilog;

namespace Fim.Agent.Cli;

/// <summary>
/// `fim-agent run --config agent.yaml`: the connected agent as a Generic Host. Options come from the YAML file,
/// overridden by FIM_* environment variables, overridden by the command line; they are validated before anything
/// starts. Logs are Serilog compact JSON on stderr when it is not a terminal (<see cref="AgentLogging"/>).
/// </summary>
public static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "Agent configuration file (YAML); see docs/agent-connected.md.", Required = true };
        var policy = new Option<string?>("--policy", "-p") { Description = "A local policy file to monitor besides the policies from KV (overrides policyFile)." };
        var metrics = new Option<string?>("--metrics-listen") { Description = "Serve Prometheus metrics on host:port (overrides metricsListen)." };
        var command = new Command("run", "Run connected to NATS: policies from KV fim-policies, events to JetStream through a durable outbox, heartbeats, commands.")
        {
            config,
            policy,
            metrics,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(config)!, parse.GetValue(policy), parse.GetValue(metrics), ct));
        return command;
    }

    public static IConfiguration BuildConfiguration(string configFile, string? policyFile, string? metricsListen)
    {
        var overrides = new Dictionary<string, string?>();
        if (policyFile is not null)
        {
            overrides[nameof(AgentOptions.PolicyFile)] = policyFile;
        }
        if (metricsListen is not null)
        {
            overrides[nameof(AgentOptions.MetricsListen)] = metricsListen;
        }
        return new ConfigurationBuilder()
            .Add(new YamlConfigurationSource(configFile))
            .AddEnvironmentVariables(AgentOptions.EnvironmentPrefix)
            .AddInMemoryCollection(overrides)
            .Build();
    }

    private static async Task<int> RunAsync(string configFile, string? policyFile, string? metricsListen, CancellationToken ct)
    {
        IConfiguration configuration;
        try
        {
            configuration = BuildConfiguration(configFile, policyFile, metricsListen);
        }
        catch (InvalidDataException e)
        {
            throw new AgentException(ExitCodes.InvalidArgument, e.Message, e);
        }
        var options = new AgentOptions();
        try
        {
            configuration.Bind(options, o => o.ErrorOnUnknownConfiguration = false);
        }
        catch (InvalidOperationException e)
        {
            throw new AgentException(ExitCodes.InvalidArgument, $"{configFile}: {e.Message}", e);
        }
        if (new AgentOptionsValidator().Validate(null, options) is { Failed: true } invalid)
        {
            throw new AgentException(ExitCodes.InvalidArgument,
                $"invalid configuration ({configFile}, FIM_* environment):\n  " + string.Join("\n  ", invalid.Failures));
        }

        // The client logs every failed reconnect with a stack trace; the agent's services log the first failure of each outage.
        var serilog = AgentLogging.CreateSerilog(c => c.MinimumLevel.Override("NATS", AgentLogging.NatsClientLevel));
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(serilog, dispose: true);
        ConfigureServices(builder.Services, configuration);
        using var host = builder.Build();

        var identity = host.Services.GetRequiredService<AgentIdentity>();
        var log = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("fim-agent");
        log.LogInformation("fim-agent {Version} connected mode: agent {AgentId} (boot {BootId}), NATS {Url}, auth {Auth}, TLS {Tls}, labels {Labels}",
            identity.Version, identity.AgentId, identity.BootId, SecretMasking.MaskUrl(options.Nats.Url), options.Nats.ToClientOptions("fim-agent", null).DescribeLogin(),
            options.Nats.Tls.Enabled ? "on" : "off", identity.Labels);
        using var metricServer = StartMetrics(options.MetricsListen);
        try
        {
            await host.RunAsync(ct);
        }
        catch (OptionsValidationException e)
        {
            throw new AgentException(ExitCodes.InvalidArgument, "invalid configuration:\n  " + string.Join("\n  ", e.Failures), e);
        }
        return ExitCodes.NoChanges;
    }

    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AgentOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            var hostname = Environment.MachineName;
            var id = AgentIdentity.ResolveId(o.AgentId, Environment.GetEnvironmentVariable, hostname);
            return new AgentIdentity(id, hostname, new Dictionary<string, string>(o.Labels, StringComparer.Ordinal), o.HostRoot);
        });
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            return StateLocation.Resolve(o.StateDir, o.KeyFile);
        });
        services.AddSingleton(sp =>
        {
            var identity = sp.GetRequiredService<AgentIdentity>();
            var nats = sp.GetRequiredService<IOptions<AgentOptions>>().Value.Nats.ToClientOptions($"fim-agent {identity.AgentId}", identity.InboxPrefix);
            // Backpressure instead of dropping: a slow command handler must not lose a request.
            return new NatsConnection(NatsConnectionFactory.CreateOpts(nats, sp.GetRequiredService<ILoggerFactory>()) with
            {
                SubPendingChannelFullMode = System.Threading.Channels.BoundedChannelFullMode.Wait,
            });
        });
        services.AddSingleton(sp => EventSigning.From(sp.GetRequiredService<IOptions<AgentOptions>>().Value.Nats));
        services.AddSingleton<StateStores>();
        services.AddSingleton<Outbox>();
        services.AddSingleton<EventIdSource>();
        services.AddSingleton<AgentStatus>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            // Nothing to index until a policy starts: each adds its roots (PolicySupervisor).
            return new PackageAwarenessHolder(Packages.PackageAwareness.ForHost(o.HostRoot, o.Packages, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<Packages.PackageAwareness>(), Packages.PackageScope.Nothing)?.PrimeInBackground());
        });
        services.AddSingleton<Kubernetes.KubernetesAttribution>();
        services.AddSingleton(sp => new PolicySupervisor(sp.GetRequiredService<StateStores>(), sp.GetRequiredService<Outbox>(), sp.GetRequiredService<EventIdSource>(),
            sp.GetRequiredService<AgentIdentity>(), sp.GetRequiredService<AgentStatus>(), sp.GetRequiredService<AgentRetries>(), sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<PackageAwarenessHolder>().Awareness, sp.GetRequiredService<Kubernetes.KubernetesAttribution>(), sp.GetRequiredService<DriftCounters>()));
        services.AddSingleton<DriftCounters>();
        services.AddSingleton<IAgentControl>(sp => sp.GetRequiredService<PolicySupervisor>());
        services.AddSingleton<CommandHandler>();
        services.AddSingleton<AgentRetries>();
        // Started in this order, stopped in reverse: monitoring stops last, after the NATS-facing services.
        services.AddHostedService<Kubernetes.PodWatchService>();
        services.AddHostedService<MonitoringLifecycle>();
        services.AddHostedService<EventPublisher>();
        services.AddHostedService<PolicySource>();
        services.AddHostedService<HeartbeatService>();
        services.AddHostedService<CommandResponder>();
        services.AddHostedService<RebaselineResponder>();
    }

    private static IDisposable? StartMetrics(string? listen) =>
        string.IsNullOrEmpty(listen) || !MetricsEndpoint.TryParse(listen, out var host, out var port)
            ? null
            : new MetricServer(host, port).Start();
}

/// <summary>The agent's package awareness, or none when `packages.enabled` is false (DI cannot hold a null singleton).</summary>
internal sealed record PackageAwarenessHolder(Fim.Agent.Packages.PackageAwareness? Awareness);

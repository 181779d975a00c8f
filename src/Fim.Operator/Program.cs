using Fim.Contracts;
using Fim.Nats;
using Fim.Operator;
using Fim.Operator.Crds;
using Fim.Operator.Nats;
using Fim.Operator.Runtime;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Formatting.Compact;

return await OperatorProgram.MainAsync(args);

/// <summary>`fim-operator run [options]` and `fim-operator generate-crds DIR`.</summary>
internal static class OperatorProgram
{
    private const string Usage = """
        usage: fim-operator run [--kubeconfig FILE] [--namespace NS] [--nats-url URL]
                                [--nats-user U --nats-password-file F | --nats-token-file F | --nats-nkey-file F | --nats-creds-file F]
                                [--nats-ca F] [--nats-cert F --nats-key F] [--nats-timeout SECONDS] [--workers N]
                                [--metrics-bind-address HOST:PORT] [--health-bind-address HOST:PORT] [--metrics-port P]
                                [--kube-api-qps Q] [--kube-api-burst B]
                                [--lease-namespace NS] [--lease-duration S] [--renew-deadline S] [--retry-period S]
                                [--no-leader-election]
               fim-operator generate-crds DIR
        --metrics-port P serves metrics and health together on every interface, port P (0 = off).
        In a cluster without --kubeconfig the in-cluster service account is used. FIM_NATS_PASSWORD may hold the password,
        FIM_NATS_TOKEN the token.
        """;

    public static async Task<int> MainAsync(string[] args)
    {
        if (args is ["generate-crds", var dir])
        {
            foreach (var path in CrdGenerator.WriteTo(dir))
            {
                Console.WriteLine(path);
            }

            return 0;
        }

        if (args.Length == 0 || args[0] != "run")
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        OperatorOptions options;
        try
        {
            options = Parse(args[1..]);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"fim-operator: {e.Message}\n{Usage}");
            return 2;
        }

        var problems = options.Validate();
        if (problems.Count > 0)
        {
            foreach (var p in problems)
            {
                await Console.Error.WriteLineAsync($"fim-operator: {p}");
            }

            return 2;
        }

        Log.Logger = CreateLogger();
        try
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Services.AddSerilog();
            builder.Services.AddSingleton(options);
            builder.Services.AddHostedService<OperatorService>();
            await builder.Build().RunAsync();
            return Environment.ExitCode;
        }
        catch (Exception e)
        {
            Log.Fatal(e, "fim-operator stopped");
            return 1;
        }
        finally
        {
            await Log.CloseAndFlushAsync();
        }
    }

    private static Serilog.ILogger CreateLogger()
    {
        // FIM_LOG_LEVEL (verbose, debug, information, ...): debug and verbose cover the NATS and Microsoft libraries too.
        var level = Enum.TryParse<Serilog.Events.LogEventLevel>(Environment.GetEnvironmentVariable("FIM_LOG_LEVEL"), ignoreCase: true, out var asked)
            ? asked : Serilog.Events.LogEventLevel.Information;
        var libraries = level <= Serilog.Events.LogEventLevel.Debug ? level : Serilog.Events.LogEventLevel.Warning;
        var config = new LoggerConfiguration().MinimumLevel.Is(level)
            .MinimumLevel.Override("NATS", libraries)
            .MinimumLevel.Override("Microsoft", libraries)
            .Enrich.FromLogContext();
        return (Console.IsOutputRedirected
            ? config.WriteTo.Console(new CompactJsonFormatter())
            : config.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss} {Level:u3} {Message:lj}{NewLine}{Exception}")).CreateLogger();
    }

    internal static OperatorOptions Parse(string[] args)
    {
        var o = new OperatorOptions();
        o = o with
        {
            Nats = o.Nats with
            {
                Password = Environment.GetEnvironmentVariable("FIM_NATS_PASSWORD") is { Length: > 0 } password ? password : null,
                Token = Environment.GetEnvironmentVariable("FIM_NATS_TOKEN") is { Length: > 0 } token ? token : null,
            },
        };
        var le = o.LeaderElection;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int()
            {
                var name = args[i];
                return int.TryParse(Value(), out var n) ? n : throw new ArgumentException($"{name} needs a number");
            }

            double Number()
            {
                var name = args[i];
                return double.TryParse(Value(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"{name} needs a number");
            }

            TimeSpan Seconds() => TimeSpan.FromSeconds(Number());

            BindAddress Address()
            {
                var name = args[i];
                return BindAddress.Parse(Value(), name);
            }

            o = args[i] switch
            {
                "--kubeconfig" => o with { Kubeconfig = Value() },
                "--namespace" => o with { Namespace = Value() },
                "--nats-url" => o with { Nats = o.Nats with { Url = Value() } },
                "--nats-user" => o with { Nats = o.Nats with { User = Value() } },
                "--nats-password-file" => o with { Nats = o.Nats with { Password = null, PasswordFile = Value() } },
                "--nats-token-file" => o with { Nats = o.Nats with { Token = null, TokenFile = Value() } },
                "--nats-nkey-file" => o with { Nats = o.Nats with { NKeySeedFile = Value() } },
                "--nats-creds-file" => o with { Nats = o.Nats with { CredsFile = Value() } },
                "--nats-ca" => o with { Nats = o.Nats with { TlsCaFile = Value() } },
                "--nats-cert" => o with { Nats = o.Nats with { TlsCertFile = Value() } },
                "--nats-key" => o with { Nats = o.Nats with { TlsKeyFile = Value() } },
                "--metrics-port" => Int() is var port ? o with { MetricsAddress = new BindAddress("", port), HealthAddress = new BindAddress("", port) } : o,
                "--metrics-bind-address" => o with { MetricsAddress = Address() },
                "--health-bind-address" => o with { HealthAddress = Address() },
                "--kube-api-qps" => o with { KubeClient = o.KubeClient with { Qps = Number() } },
                "--kube-api-burst" => o with { KubeClient = o.KubeClient with { Burst = Int() } },
                "--nats-timeout" => o with { NatsCallTimeout = Seconds() },
                "--lease-duration" => o with { LeaderElection = le = le with { LeaseDuration = Seconds() } },
                "--renew-deadline" => o with { LeaderElection = le = le with { RenewDeadline = Seconds() } },
                "--retry-period" => o with { LeaderElection = le = le with { RetryPeriod = Seconds() } },
                "--workers" => o with { Controllers = o.Controllers with { Workers = Int() } },
                "--lease-namespace" => o with { LeaderElection = le = le with { Namespace = Value() } },
                "--no-leader-election" => o with { LeaderElection = le = le with { Enabled = false } },
                _ => throw new ArgumentException($"unknown option '{args[i]}'"),
            };
        }

        if (le.Enabled && Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } podNs && !args.Contains("--lease-namespace"))
        {
            o = o with { LeaderElection = le = le with { Namespace = podNs } };
        }

        // The Lease names its holder by pod (hostname_suffix, like controller-runtime), so `kubectl get lease` says which pod leads.
        if (Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod)
        {
            o = o with { LeaderElection = le with { Identity = $"{pod}_{Guid.NewGuid().ToString("N")[..6]}" } };
        }

        return o;
    }
}

/// <summary>
/// The hosted operator: Kubernetes client, health server, runner and, beside them (never before them), the NATS
/// connection. Leader election, /healthz and the pool controller do not need NATS; policies report KvUnavailable
/// until it is there. A refused NATS login stops the process with exit code 1 (retrying cannot fix it).
/// </summary>
internal sealed class OperatorService(OperatorOptions options, ILoggerFactory loggers, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var logger = loggers.CreateLogger<OperatorService>();
        var config = options.Kubeconfig is { } file
            ? KubernetesClientConfiguration.BuildConfigFromConfigFile(file)
            : KubernetesClientConfiguration.IsInCluster() ? KubernetesClientConfiguration.InClusterConfig() : KubernetesClientConfiguration.BuildDefaultConfig();
        using var client = new Kubernetes(config, new KubeClientHandler(options.KubeClient));
        logger.LogInformation("connecting to Kubernetes at {Host} and NATS ({Nats})", config.Host, options.Nats);
        await using var nats = new NatsKvConnection(options.Nats, options.NatsCallTimeout, loggers);
        var agents = nats.AgentDirectory(loggers.CreateLogger<NatsAgentDirectory>());
        var unreviewed = nats.UnreviewedAlerts(loggers.CreateLogger<NatsUnreviewedAlerts>());
        var runner = new OperatorRunner(client, nats.PolicyStore, agents, options, loggers)
        {
            NodeStatus = new Fim.Operator.Controllers.NodeStatus.NodeStatusSetup(new NatsRebaseliner(() => nats.Connection), new Fim.Operator.Controllers.NodeStatus.NodeStatusOptions(), unreviewed),
            Maintenance = nats.MaintenanceStore,
            Notifications = nats.Notifications,
        };
        nats.Available += runner.OnKvAvailable;
        var tasks = new List<Task> { agents.RunAsync(ct), unreviewed.RunAsync(ct), runner.RunAsync(ct), ConnectNatsAsync() };
        var health = loggers.CreateLogger<HealthServer>();
        if (options.MetricsAddress == options.HealthAddress)
        {
            if (!options.MetricsAddress.Off)
            {
                tasks.Add(new HealthServer(options.MetricsAddress, HealthEndpoints.Metrics | HealthEndpoints.Health, () => runner.Ready, health).RunAsync(ct));
            }
        }
        else
        {
            if (!options.MetricsAddress.Off)
            {
                tasks.Add(new HealthServer(options.MetricsAddress, HealthEndpoints.Metrics, () => runner.Ready, health).RunAsync(ct));
            }

            if (!options.HealthAddress.Off)
            {
                tasks.Add(new HealthServer(options.HealthAddress, HealthEndpoints.Health, () => runner.Ready, health).RunAsync(ct));
            }
        }

        await Task.WhenAll(tasks);

        async Task ConnectNatsAsync()
        {
            try
            {
                await nats.RunAsync(ct);
            }
            catch (NatsLoginException e)
            {
                logger.LogCritical("{Error}", e.Message);
                Environment.ExitCode = 1;
                lifetime.StopApplication();
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
        }
    }
}

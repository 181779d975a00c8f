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
using NATS.Client.Core;
using Serilog;
using Serilog.Formatting.Compact;

return await OperatorProgram.MainAsync(args);

/// <summary>`fim-operator run [options]` and `fim-operator generate-crds DIR`.</summary>
internal static class OperatorProgram
{
    private const string Usage = """
        usage: fim-operator run [--kubeconfig FILE] [--namespace NS] [--nats-url URL]
                                [--nats-user U --nats-password-file F | --nats-token-file F | --nats-nkey-file F | --nats-creds-file F]
                                [--nats-ca F] [--nats-cert F --nats-key F] [--metrics-port P] [--workers N]
                                [--lease-namespace NS] [--no-leader-election]
               fim-operator generate-crds DIR
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
        var config = new LoggerConfiguration().MinimumLevel.Information()
            .MinimumLevel.Override("NATS", Serilog.Events.LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
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
                "--metrics-port" => o with { MetricsPort = Int() },
                "--workers" => o with { Controllers = o.Controllers with { Workers = Int() } },
                "--lease-namespace" => o with { LeaderElection = le = le with { Namespace = Value() } },
                "--no-leader-election" => o with { LeaderElection = le = le with { Enabled = false } },
                _ => throw new ArgumentException($"unknown option '{args[i]}'"),
            };
        }

        if (le.Enabled && Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } podNs && !args.Contains("--lease-namespace"))
        {
            o = o with { LeaderElection = le with { Namespace = podNs } };
        }

        return o;
    }
}

/// <summary>The hosted operator: Kubernetes client, NATS buckets, health server, runner.</summary>
internal sealed class OperatorService(OperatorOptions options, ILoggerFactory loggers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var logger = loggers.CreateLogger<OperatorService>();
        var config = options.Kubeconfig is { } file
            ? KubernetesClientConfiguration.BuildConfigFromConfigFile(file)
            : KubernetesClientConfiguration.IsInCluster() ? KubernetesClientConfiguration.InClusterConfig() : KubernetesClientConfiguration.BuildDefaultConfig();
        using var client = new Kubernetes(config);
        logger.LogInformation("connecting to Kubernetes at {Host} and NATS ({Nats})", config.Host, options.Nats);
        NatsConnection nats;
        try
        {
            nats = await NatsConnectionFactory.ConnectAsync(options.Nats, loggers, ct);
        }
        catch (NatsLoginException e)
        {
            // Retrying cannot fix a refused login; exit non-zero with the reason so the pod's status shows it.
            logger.LogCritical("{Error}", e.Message);
            Environment.ExitCode = 1;
            throw;
        }

        await using var _ = nats;
        var policies = await NatsBuckets.OpenAsync(nats, Subjects.PoliciesBucket, ct);
        var agentsBucket = await NatsBuckets.OpenAsync(nats, Subjects.AgentsBucket, ct);
        var agents = new NatsAgentDirectory(agentsBucket, loggers.CreateLogger<NatsAgentDirectory>());
        var runner = new OperatorRunner(client, new NatsPolicyStore(policies), agents, options, loggers);
        var tasks = new List<Task> { agents.RunAsync(ct), runner.RunAsync(ct) };
        if (options.MetricsPort > 0)
        {
            tasks.Add(new HealthServer(options.MetricsPort, () => true, loggers.CreateLogger<HealthServer>()).RunAsync(ct));
        }

        await Task.WhenAll(tasks);
    }
}

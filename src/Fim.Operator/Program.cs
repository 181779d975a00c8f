using Fim.Contracts;
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
        usage: fim-operator run [--kubeconfig FILE] [--namespace NS] [--nats-url URL] [--nats-user U --nats-password-file F]
                                [--nats-ca F] [--nats-cert F --nats-key F] [--metrics-port P] [--workers N]
                                [--lease-namespace NS] [--no-leader-election]
               fim-operator generate-crds DIR
        In a cluster without --kubeconfig the in-cluster service account is used. FIM_NATS_PASSWORD may hold the password.
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
            Console.Error.WriteLine(Usage);
            return 2;
        }

        OperatorOptions options;
        try
        {
            options = Parse(args[1..]);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"fim-operator: {e.Message}\n{Usage}");
            return 2;
        }

        var problems = options.Validate();
        if (problems.Count > 0)
        {
            foreach (var p in problems)
            {
                Console.Error.WriteLine($"fim-operator: {p}");
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
            return 0;
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
        var o = new OperatorOptions { NatsPassword = Environment.GetEnvironmentVariable("FIM_NATS_PASSWORD") };
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
                "--nats-url" => o with { NatsUrl = Value() },
                "--nats-user" => o with { NatsUser = Value() },
                "--nats-password-file" => o with { NatsPassword = ReadSecret(Value()) },
                "--nats-ca" => o with { NatsCaFile = Value() },
                "--nats-cert" => o with { NatsCertFile = Value() },
                "--nats-key" => o with { NatsKeyFile = Value() },
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

    private static string ReadSecret(string path) =>
        File.Exists(path) ? File.ReadAllText(path).TrimEnd('\r', '\n') : throw new ArgumentException($"--nats-password-file: '{path}' does not exist");
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
        await using var nats = new NatsConnection(NatsOptions());
        logger.LogInformation("connecting to Kubernetes at {Host} and NATS at {Nats} (auth: {Auth})", config.Host, options.NatsUrl,
            options.NatsUser is not null ? "user/password" : options.NatsCertFile is not null ? "TLS client certificate" : "none");
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

    private NatsOpts NatsOptions()
    {
        var auth = options.NatsUser is { } user ? NatsAuthOpts.Default with { Username = user, Password = options.NatsPassword } : NatsAuthOpts.Default;
        var tls = options.NatsCaFile is not null || options.NatsCertFile is not null
            ? NatsTlsOpts.Default with { Mode = TlsMode.Require, CaFile = options.NatsCaFile, CertFile = options.NatsCertFile, KeyFile = options.NatsKeyFile }
            : NatsTlsOpts.Default;
        return NatsOpts.Default with
        {
            Url = options.NatsUrl,
            Name = "fim-operator",
            AuthOpts = auth,
            TlsOpts = tls,
            LoggerFactory = loggers,
            RetryOnInitialConnect = true,
            MaxReconnectRetry = -1,
        };
    }
}

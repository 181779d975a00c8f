using Fim.Operator.Controllers.Policy;
using Fim.Operator.Runtime;

namespace Fim.Operator;

/// <summary>Everything `fim-operator run` can be told. Validate() lists every problem, naming the option.</summary>
public sealed record OperatorOptions
{
    public string? Kubeconfig { get; init; }

    /// <summary>Watch only this namespace; null = all namespaces.</summary>
    public string? Namespace { get; init; }

    public string NatsUrl { get; init; } = "nats://127.0.0.1:4222";
    public string? NatsUser { get; init; }

    /// <summary>Never logged.</summary>
    public string? NatsPassword { get; init; }
    public string? NatsCaFile { get; init; }
    public string? NatsCertFile { get; init; }
    public string? NatsKeyFile { get; init; }

    /// <summary>/metrics, /healthz and /readyz; 0 = off.</summary>
    public int MetricsPort { get; init; } = 8080;

    public LeaderElectionOptions LeaderElection { get; init; } = new();
    public ControllerOptions Controllers { get; init; } = new();
    public InformerOptions Informers { get; init; } = new();
    public PolicyControllerOptions Policies { get; init; } = new();

    /// <summary>How often a pool is looked at again to refresh its status from the Deployment and HPA.</summary>
    public TimeSpan PoolRefresh { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Heartbeat changes are coalesced: policies are recounted at most this often.</summary>
    public TimeSpan AgentsCoalesce { get; init; } = TimeSpan.FromSeconds(1);

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Uri.TryCreate(NatsUrl, UriKind.Absolute, out var u) || u.Scheme is not ("nats" or "tls"))
        {
            problems.Add($"--nats-url: '{NatsUrl}' is not a nats:// or tls:// URL");
        }

        if (NatsUser is not null && NatsPassword is null)
        {
            problems.Add("--nats-user needs a password (--nats-password-file or FIM_NATS_PASSWORD)");
        }

        if ((NatsCertFile is null) != (NatsKeyFile is null))
        {
            problems.Add("--nats-cert and --nats-key go together");
        }

        foreach (var (option, file) in new[] { ("--kubeconfig", Kubeconfig), ("--nats-ca", NatsCaFile), ("--nats-cert", NatsCertFile), ("--nats-key", NatsKeyFile) })
        {
            if (file is not null && !File.Exists(file))
            {
                problems.Add($"{option}: file '{file}' does not exist");
            }
        }

        if (MetricsPort is < 0 or > 65535)
        {
            problems.Add($"--metrics-port: {MetricsPort} is not a port");
        }

        if (Controllers.Workers is < 1 or > 64)
        {
            problems.Add($"--workers: {Controllers.Workers} is not between 1 and 64");
        }

        var le = LeaderElection;
        if (le.Enabled && !(le.RetryPeriod < le.RenewDeadline && le.RenewDeadline < le.LeaseDuration))
        {
            problems.Add("leader election: retry period < renew deadline < lease duration is required");
        }

        return problems;
    }
}

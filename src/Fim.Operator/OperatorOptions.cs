using Fim.Nats;
using Fim.Operator.Controllers.Policy;
using Fim.Operator.Runtime;

namespace Fim.Operator;

/// <summary>Everything `fim-operator run` can be told. Validate() lists every problem, naming the option.</summary>
public sealed record OperatorOptions
{
    public string? Kubeconfig { get; init; }

    /// <summary>Watch only this namespace; null = all namespaces.</summary>
    public string? Namespace { get; init; }

    /// <summary>How to reach NATS; the operator's flags map onto the shared shape (<see cref="NatsNames"/>).</summary>
    public NatsClientOptions Nats { get; init; } = new() { Name = "fim-operator", ReconnectWaitMax = TimeSpan.FromSeconds(2) };

    /// <summary>Deadline of every KV call; a call NATS does not answer in time shows as KvUnavailable.</summary>
    public TimeSpan NatsCallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The flags (and the one environment variable) a user sets, for validation messages.</summary>
    public static readonly NatsOptionNames NatsNames = new(
        Url: "--nats-url", TlsCaFile: "--nats-ca", TlsCertFile: "--nats-cert", TlsKeyFile: "--nats-key",
        User: "--nats-user", Password: "FIM_NATS_PASSWORD", PasswordFile: "--nats-password-file", Token: "FIM_NATS_TOKEN",
        TokenFile: "--nats-token-file", NKeySeedFile: "--nats-nkey-file", CredsFile: "--nats-creds-file");

    /// <summary>/metrics; port 0 = off. Every interface by default: Prometheus scrapes the pod IP.</summary>
    public BindAddress MetricsAddress { get; init; } = new("", 8080);

    /// <summary>/healthz and /readyz; port 0 = off. Every interface by default: the kubelet probes the pod IP.</summary>
    public BindAddress HealthAddress { get; init; } = new("", 8080);

    /// <summary>Client-side rate limit of all requests to the API server.</summary>
    public KubeClientOptions KubeClient { get; init; } = new();

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
        problems.AddRange(NatsOptionsValidator.Validate(Nats, NatsNames));
        if (Kubeconfig is not null && !File.Exists(Kubeconfig))
        {
            problems.Add($"--kubeconfig: file '{Kubeconfig}' does not exist");
        }

        foreach (var (address, option) in new[] { (MetricsAddress, "--metrics-bind-address"), (HealthAddress, "--health-bind-address") })
        {
            if (address.Port is < 0 or > 65535)
            {
                problems.Add($"{option}: {address.Port} is not a port");
            }
        }

        if (KubeClient.Qps < 0 || KubeClient.Burst < 1)
        {
            problems.Add($"--kube-api-qps/--kube-api-burst: qps must be >= 0 (0 = unlimited) and burst >= 1 (got {KubeClient.Qps}, {KubeClient.Burst})");
        }

        if (NatsCallTimeout <= TimeSpan.Zero)
        {
            problems.Add("--nats-timeout: must be positive");
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

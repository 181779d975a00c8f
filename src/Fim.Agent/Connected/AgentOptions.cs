using Fim.Nats;
namespace Fim.Agent.Connected;

/// <summary>
/// The connected agent's configuration (`fim-agent run --config agent.yaml`). Keys are the camelCase property
/// names; environment variables override the file as FIM_&lt;KEY&gt; with "__" between levels (FIM_NATS__URL,
/// FIM_NATS__TLS__CAFILE, FIM_LABELS__zone). docs/agent-connected.md is the reference.
/// </summary>
public sealed class AgentOptions
{
    public const string EnvironmentPrefix = "FIM_";

    /// <summary>Subject token and KV key of this agent; default: NODE_NAME, else the host name, lower-cased and sanitised.</summary>
    public string? AgentId { get; set; }

    /// <summary>Labels policies select on (matchLabels / matchExpressions), e.g. the node's labels.</summary>
    public Dictionary<string, string> Labels { get; set; } = [];

    public NatsConnectionOptions Nats { get; set; } = new();

    /// <summary>Root of the per-policy baseline stores (each in stateDir/&lt;policy key&gt;/).</summary>
    public string? StateDir { get; set; }

    /// <summary>HMAC key sealing the baselines; must be outside stateDir.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Optional local policy file, monitored besides the policies from KV.</summary>
    public string? PolicyFile { get; set; }

    public string HeartbeatInterval { get; set; } = "30s";

    /// <summary>Most events waiting for JetStream before the agent stops advancing its baselines (see the overflow policy).</summary>
    public int OutboxMaxEvents { get; set; } = 100_000;

    /// <summary>JetStream publishes awaiting their ack at once.</summary>
    public int PublishMaxInFlight { get; set; } = 256;

    /// <summary>host:port for Prometheus metrics; off when empty.</summary>
    public string? MetricsListen { get; set; }

    /// <summary>
    /// Where the host's file system is mounted when the agent runs in a container (the DaemonSet mounts it at /host):
    /// policy paths such as /etc are watched as /host/etc and reported as /etc. Empty: the agent sees the host at '/'.
    /// </summary>
    public string? HostRoot { get; set; }

    /// <summary>Package-manager awareness: changed paths are checked against the host's package database (under hostRoot).</summary>
    public Fim.Agent.Packages.PackageOptions Packages { get; set; } = new();

    /// <summary>Pods of this node: who wrote (pod, container, workload) and files inside containers (docs/agent-connected.md).</summary>
    public Kubernetes.KubernetesOptions Kubernetes { get; set; } = new();
}

public sealed class NatsConnectionOptions
{
    /// <summary>One or more server URLs, comma-separated (nats://host:4222, tls://host:4222).</summary>
    public string? Url { get; set; }

    public string? User { get; set; }

    public string? Password { get; set; }

    /// <summary>File holding the password (a mounted secret); instead of password.</summary>
    public string? PasswordFile { get; set; }

    public string? Token { get; set; }

    /// <summary>File holding the token; instead of token.</summary>
    public string? TokenFile { get; set; }

    /// <summary>File holding an NKey seed (SU...): the agent proves its identity by signing the server's nonce.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("nkeyFile")] // the documented spelling, for the strict reader
    public string? NKeyFile { get; set; }

    /// <summary>A creds file (user JWT plus NKey seed) for servers run in operator/JWT mode.</summary>
    public string? CredsFile { get; set; }

    public NatsTlsOptions Tls { get; set; } = new();

    /// <summary>The keys as written in the agent's YAML file, for validation messages.</summary>
    public static readonly NatsOptionNames Names = new(
        Url: "nats.url", TlsCaFile: "nats.tls.caFile", TlsCertFile: "nats.tls.certFile", TlsKeyFile: "nats.tls.keyFile",
        User: "nats.user", Password: "nats.password", PasswordFile: "nats.passwordFile", Token: "nats.token", TokenFile: "nats.tokenFile",
        NKeySeedFile: "nats.nkeyFile", CredsFile: "nats.credsFile");

    /// <summary>The shared connection shape; an agent waits up to 5 s for a request and backs off reconnects up to 5 s.</summary>
    public NatsClientOptions ToClientOptions(string name, string? inboxPrefix) => new()
    {
        Url = Url ?? "",
        Name = name,
        TlsCaFile = Tls.CaFile,
        TlsCertFile = Tls.CertFile,
        TlsKeyFile = Tls.KeyFile,
        User = User,
        Password = Password,
        PasswordFile = PasswordFile,
        Token = Token,
        TokenFile = TokenFile,
        NKeySeedFile = NKeyFile,
        CredsFile = CredsFile,
        InboxPrefix = inboxPrefix,
        RequestTimeout = TimeSpan.FromSeconds(5),
        ReconnectWaitMin = TimeSpan.FromMilliseconds(250),
        ReconnectWaitMax = TimeSpan.FromSeconds(5),
    };
}

public sealed class NatsTlsOptions
{
    /// <summary>CA bundle that verifies the server; setting any TLS file turns TLS on.</summary>
    public string? CaFile { get; set; }

    /// <summary>Client certificate (PEM) for mutual TLS; its DNS SAN maps to the agent's NATS user.</summary>
    public string? CertFile { get; set; }

    public string? KeyFile { get; set; }

    public bool Enabled => CaFile is not null || CertFile is not null || KeyFile is not null;
}

using k8s.Models;

namespace Fim.Operator.Api;

/// <summary>FimManagerPool: a horizontally scaled set of Fim.Manager pods behind a load balancer.</summary>
public sealed class FimManagerPool : CustomResource<FimManagerPoolSpec, FimManagerPoolStatus>
{
    public const string KindName = "FimManagerPool";
    public const string Plural = "fimmanagerpools";

    public override string Kind { get; set; } = KindName;
}

[Description("A pool of stateless Fim.Manager pods consuming FIM_EVENTS.")]
public sealed class FimManagerPoolSpec
{
    [RequiredField, Description("Manager container image."), Pattern("^\\S+$")]
    public string Image { get; set; } = "";

    [RequiredField]
    public PoolNats Nats { get; set; } = new();

    public PoolReplicas? Replicas { get; set; }

    public PoolAutoscaling? Autoscaling { get; set; }

    [Description("Container resource requests and limits (cpu, memory).")]
    public PoolResources? Resources { get; set; }

    public PoolService? Service { get; set; }

    [Description("Secret (tls.crt, tls.key) for the manager's own HTTPS/gRPC endpoint.")]
    public SecretReference? TlsSecretRef { get; set; }

    [Description("ConfigMap whose keys are manager settings as environment variables (Fim__Auth__Oidc__Authority, Fim__Auth__Groups__0__Group, ...): who may call the API.")]
    public SecretReference? AuthConfigMapRef { get; set; }

    [Description("Secret whose keys are secret manager settings as environment variables (Fim__Auth__Oidc__ClientSecret).")]
    public SecretReference? AuthSecretRef { get; set; }

    public PoolTopologySpread? TopologySpread { get; set; }
}

public sealed class PoolNats
{
    [RequiredField, Pattern("^(nats|tls)://\\S+$"), Description("NATS URL, e.g. nats://nats.fim:4222.")]
    public string Url { get; set; } = "";

    [Description("Secret with keys 'user' and 'password' for NATS authentication.")]
    public SecretReference? SecretRef { get; set; }

    [Description("Secret with ca.crt, tls.crt and tls.key for NATS TLS (client certificate).")]
    public SecretReference? TlsSecretRef { get; set; }
}

public sealed class PoolReplicas
{
    [Range(1), DefaultValue(2)]
    public int Min { get; set; } = 2;

    [Range(1), DefaultValue(10)]
    public int Max { get; set; } = 10;
}

public sealed class PoolAutoscaling
{
    [Range(1), DefaultValue(1000), Description("Target JetStream consumer pending events per replica (external metric fim_consumer_pending).")]
    public long PendingPerReplica { get; set; } = 1000;

    [Range(1, 100), DefaultValue(70), Description("Target average CPU utilization, percent of requests.")]
    public int CpuUtilization { get; set; } = 70;
}

public sealed class PoolResources
{
    public Dictionary<string, ResourceQuantity>? Requests { get; set; }

    public Dictionary<string, ResourceQuantity>? Limits { get; set; }
}

public sealed class PoolService
{
    [EnumValues("LoadBalancer", "ClusterIP"), DefaultValue("LoadBalancer")]
    public string Type { get; set; } = "LoadBalancer";

    [EnumValues("internal", "internet-facing"), DefaultValue("internal"), Description("AWS NLB scheme.")]
    public string Scheme { get; set; } = "internal";

    [Description("Extra Service annotations (they win over the operator's NLB defaults).")]
    public Dictionary<string, string>? Annotations { get; set; }

    public PoolPorts? Ports { get; set; }
}

public sealed class PoolPorts
{
    [Range(1, 65535), DefaultValue(443), Description("Service port for the REST API.")]
    public int Http { get; set; } = 443;

    [Range(1, 65535), DefaultValue(8443), Description("Service port for gRPC.")]
    public int Grpc { get; set; } = 8443;
}

public sealed class PoolTopologySpread
{
    [DefaultValue(true), Description("Spread pods across topology.kubernetes.io/zone.")]
    public bool Zones { get; set; } = true;

    [Range(1), DefaultValue(1)]
    public int MaxSkew { get; set; } = 1;
}

public sealed record FimManagerPoolStatus
{
    public List<Condition>? Conditions { get; init; }

    public long? ObservedGeneration { get; init; }

    public int? DesiredReplicas { get; init; }

    public int? ReadyReplicas { get; init; }

    [Description("JetStream consumer pending events as the HPA last saw them; absent when unknown.")]
    public long? PendingEvents { get; init; }
}

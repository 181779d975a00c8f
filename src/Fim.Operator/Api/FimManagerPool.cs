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
[ValidationRule("(has(self.store) && has(self.store.postgres)) || !has(self.replicas) || (self.replicas.min == 1 && self.replicas.max == 1)",
    "store.sqlite (also the default when store is absent) needs exactly one replica (one manager indexes a SQLite file): set replicas.min and replicas.max to 1, or use store.postgres to run more")]
[ValidationRule("!has(self.store) || has(self.store.postgres) || !has(self.autoscaling) || self.autoscaling.provider == 'none'",
    "store.sqlite runs one manager, so autoscaling would scale nothing: remove autoscaling (or set its provider to none), or use store.postgres to autoscale")]
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

    public PoolEnrollment? Enrollment { get; set; }

    public PoolDisruptionBudget? DisruptionBudget { get; set; }

    public PoolStore? Store { get; set; }

    public PoolFleet? Fleet { get; set; }

    public PoolSinks? Sinks { get; set; }

    public PoolChaos? Chaos { get; set; }

    [Description("Node labels the manager pods must run on (pod spec nodeSelector).")]
    public Dictionary<string, string>? NodeSelector { get; set; }

    [Description("Tolerations of the manager pods.")]
    public List<PoolToleration>? Tolerations { get; set; }

    [FreeForm, Description("Pod affinity, as in a pod spec (nodeAffinity, podAffinity, podAntiAffinity).")]
    public System.Text.Json.Nodes.JsonObject? Affinity { get; set; }

    [Description("PriorityClass of the manager pods."), Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    public string? PriorityClassName { get; set; }

    [Description("Extra annotations on the manager pods.")]
    public Dictionary<string, string>? PodAnnotations { get; set; }

    [Description("Annotations on the pool's ServiceAccount, e.g. eks.amazonaws.com/role-arn for IRSA.")]
    public Dictionary<string, string>? ServiceAccountAnnotations { get; set; }

    [Description("Secrets (in the pool's namespace) to pull the manager image with.")]
    public List<SecretReference>? ImagePullSecrets { get; set; }
}

public sealed class PoolToleration
{
    [Description("Taint key; empty with operator Exists tolerates everything.")]
    public string? Key { get; set; }

    [EnumValues("Exists", "Equal")]
    public string? Operator { get; set; }

    public string? Value { get; set; }

    [EnumValues("NoSchedule", "PreferNoSchedule", "NoExecute")]
    public string? Effect { get; set; }

    [Description("For NoExecute: how long the pod stays bound after the taint appears.")]
    public long? TolerationSeconds { get; set; }
}

public sealed class PoolDisruptionBudget
{
    [Range(0), DefaultValue(1), Description("Pods that may be unavailable during voluntary disruptions.")]
    public int MaxUnavailable { get; set; } = 1;

    [EnumValues("IfHealthyBudget", "AlwaysAllow"), DefaultValue("AlwaysAllow"),
     Description("Whether pods that are running but not ready may be evicted even when the budget is exhausted (AlwaysAllow keeps a broken pod from blocking node drains).")]
    public string UnhealthyPodEvictionPolicy { get; set; } = "AlwaysAllow";
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

[ValidationRule("self.min <= self.max", "replicas.min must not exceed replicas.max")]
public sealed class PoolReplicas
{
    [Range(1), DefaultValue(2)]
    public int Min { get; set; } = 2;

    [Range(1), DefaultValue(10)]
    public int Max { get; set; } = 10;
}

[ValidationRule("self.provider != 'keda' || has(self.keda)", "autoscaling.keda is required when autoscaling.provider is keda")]
public sealed class PoolAutoscaling
{
    public const string PrometheusAdapterProvider = "prometheus-adapter";
    public const string KedaProvider = "keda";
    public const string NoProvider = "none";

    [EnumValues(PrometheusAdapterProvider, KedaProvider, NoProvider), DefaultValue(PrometheusAdapterProvider),
     Description("Who scales the pool: an HPA on the external metric fim_consumer_pending served by prometheus-adapter (the operator writes the HPA), a KEDA ScaledObject with the NATS JetStream scaler (KEDA writes the HPA), or none (replicas.min pods).")]
    public string Provider { get; set; } = PrometheusAdapterProvider;

    [Description("KEDA settings; required when provider is keda.")]
    public PoolKeda? Keda { get; set; }

    [Range(1), DefaultValue(1000), Description("Target JetStream consumer pending events per replica (external metric fim_consumer_pending).")]
    public long PendingPerReplica { get; set; } = 1000;

    [Range(1, 100), DefaultValue(70), Description("Target average CPU utilization, percent of requests.")]
    public int CpuUtilization { get; set; } = 70;
}

public sealed class PoolKeda
{
    [RequiredField, Pattern("^\\S+$"), Description("host:port of the NATS monitoring endpoint KEDA polls (e.g. nats.fim.svc:8222).")]
    public string NatsMonitoringEndpoint { get; set; } = "";

    [DefaultValue("$G"), Description("NATS account of the stream ($G without accounts).")]
    public string Account { get; set; } = "$G";

    [DefaultValue(false), Description("Poll the monitoring endpoint over HTTPS.")]
    public bool UseHttps { get; set; }

    [Range(1), DefaultValue(15), Description("Seconds between KEDA's polls.")]
    public int PollingInterval { get; set; } = 15;

    [Range(0), DefaultValue(300), Description("Seconds after the last activity before scaling to minReplicas.")]
    public int CooldownPeriod { get; set; } = 300;
}

public sealed class PoolResources
{
    public Dictionary<string, ResourceQuantity>? Requests { get; set; }

    public Dictionary<string, ResourceQuantity>? Limits { get; set; }
}

[ValidationRule("!has(self.tls) || self.type == 'LoadBalancer'", "service.tls (TLS offload at the NLB) needs service.type LoadBalancer")]
public sealed class PoolService
{
    [EnumValues("LoadBalancer", "ClusterIP"), DefaultValue("LoadBalancer")]
    public string Type { get; set; } = "LoadBalancer";

    [EnumValues("internal", "internet-facing"), DefaultValue("internal"), Description("AWS NLB scheme.")]
    public string Scheme { get; set; } = "internal";

    [Description("Extra Service labels (the operator's own labels win).")]
    public Dictionary<string, string>? Labels { get; set; }

    [Description("Extra Service annotations (they win over the operator's NLB defaults).")]
    public Dictionary<string, string>? Annotations { get; set; }

    public PoolPorts? Ports { get; set; }

    [Range(0, 3600), DefaultValue(30),
     Description("NLB target deregistration delay, seconds. Pods sleep this long in preStop (still serving) and get this plus 30 s to terminate.")]
    public int DeregistrationDelaySeconds { get; set; } = 30;

    [Description("TLS offload at the NLB (ACM certificate). With tlsSecretRef too, the NLB re-encrypts to the pods (end-to-end TLS).")]
    public PoolServiceTls? Tls { get; set; }
}

public sealed class PoolServiceTls
{
    [RequiredField, Pattern("^arn:\\S+$"), Description("ACM certificate ARN(s), comma-separated (aws-load-balancer-ssl-cert).")]
    public string CertificateArn { get; set; } = "";

    [DefaultValue("ELBSecurityPolicy-TLS13-1-2-2021-06"), Description("NLB TLS negotiation policy (aws-load-balancer-ssl-negotiation-policy).")]
    public string SslPolicy { get; set; } = "ELBSecurityPolicy-TLS13-1-2-2021-06";
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

    [DefaultValue(true), Description("Spread pods across nodes (kubernetes.io/hostname).")]
    public bool Nodes { get; set; } = true;

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

using Fim.Operator.Api;
using k8s.Models;

namespace Fim.Operator.Controllers.Pool;

/// <summary>The objects a FimManagerPool should own.</summary>
public sealed record PoolChildren(V1ServiceAccount ServiceAccount, V1Deployment Deployment, V1Service Service, V2HorizontalPodAutoscaler Autoscaler, V1PodDisruptionBudget DisruptionBudget);

/// <summary>
/// Pure: FimManagerPool spec -> the Deployment, Service (AWS NLB), HPA (fim_consumer_pending + CPU), PDB and
/// ServiceAccount it owns. Every child is named like the pool and carries a controller ownerReference.
/// </summary>
public static class PoolDesiredState
{
    public const string PendingMetric = "fim_consumer_pending";
    public const int HttpPort = 8080;
    public const int GrpcPort = 8081;
    /// <summary>Probes and /metrics, plaintext and unauthenticated; not a port of the Service.</summary>
    public const int HealthPort = 8082;
    public const string NatsUserKey = "user";
    public const string NatsPasswordKey = "password";
    private const string NatsTlsDir = "/etc/fim/nats-tls";
    private const string ApiTlsDir = "/etc/fim/tls";

    public static PoolChildren Build(FimManagerPool pool)
    {
        var name = pool.Metadata.Name;
        var spec = pool.Spec;
        var replicas = spec.Replicas ?? new PoolReplicas();
        return new PoolChildren(
            new V1ServiceAccount { ApiVersion = "v1", Kind = "ServiceAccount", Metadata = Meta(pool), AutomountServiceAccountToken = false },
            Deployment(pool, name, spec, replicas),
            Service(pool, name, spec.Service ?? new PoolService()),
            Autoscaler(pool, name, replicas, spec.Autoscaling ?? new PoolAutoscaling()),
            new V1PodDisruptionBudget
            {
                ApiVersion = "policy/v1",
                Kind = "PodDisruptionBudget",
                Metadata = Meta(pool),
                Spec = new V1PodDisruptionBudgetSpec
                {
                    MaxUnavailable = (IntOrString)"1",
                    Selector = new V1LabelSelector { MatchLabels = PoolLabels.Selector(name) },
                },
            });
    }

    public static V1OwnerReference OwnerReference(FimManagerPool pool) => new()
    {
        ApiVersion = FimApi.ApiVersion,
        Kind = FimManagerPool.KindName,
        Name = pool.Metadata.Name,
        Uid = pool.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };

    private static V1ObjectMeta Meta(FimManagerPool pool, IDictionary<string, string>? annotations = null) => new()
    {
        Name = pool.Metadata.Name,
        NamespaceProperty = pool.Metadata.NamespaceProperty,
        Labels = PoolLabels.For(pool.Metadata.Name),
        Annotations = annotations,
        OwnerReferences = [OwnerReference(pool)],
    };

    private static V1Deployment Deployment(FimManagerPool pool, string name, FimManagerPoolSpec spec, PoolReplicas replicas)
    {
        var env = new List<V1EnvVar>
        {
            new() { Name = "Fim__Nats__Url", Value = spec.Nats.Url },
            new() { Name = "Fim__Api__HttpPort", Value = HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            new() { Name = "Fim__Api__GrpcPort", Value = GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            new() { Name = "Fim__Api__HealthPort", Value = HealthPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            // The API binds the pod's own address (where the Service sends clients), not every interface.
            new() { Name = "Fim__Api__Address", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIP" } } },
        };
        var volumes = new List<V1Volume> { new() { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource() } };
        var mounts = new List<V1VolumeMount> { new() { Name = "tmp", MountPath = "/tmp" } };
        if (spec.Nats.SecretRef is { } auth)
        {
            env.Add(SecretEnv("Fim__Nats__User", auth.Name, NatsUserKey));
            env.Add(SecretEnv("Fim__Nats__Password", auth.Name, NatsPasswordKey));
        }

        if (spec.Nats.TlsSecretRef is { } natsTls)
        {
            env.Add(new V1EnvVar { Name = "Fim__Nats__TlsCaFile", Value = $"{NatsTlsDir}/ca.crt" });
            env.Add(new V1EnvVar { Name = "Fim__Nats__TlsCertFile", Value = $"{NatsTlsDir}/tls.crt" });
            env.Add(new V1EnvVar { Name = "Fim__Nats__TlsKeyFile", Value = $"{NatsTlsDir}/tls.key" });
            volumes.Add(new V1Volume { Name = "nats-tls", Secret = new V1SecretVolumeSource { SecretName = natsTls.Name } });
            mounts.Add(new V1VolumeMount { Name = "nats-tls", MountPath = NatsTlsDir, ReadOnlyProperty = true });
        }

        if (spec.TlsSecretRef is { } apiTls)
        {
            env.Add(new V1EnvVar { Name = "Fim__Api__TlsCertFile", Value = $"{ApiTlsDir}/tls.crt" });
            env.Add(new V1EnvVar { Name = "Fim__Api__TlsKeyFile", Value = $"{ApiTlsDir}/tls.key" });
            volumes.Add(new V1Volume { Name = "tls", Secret = new V1SecretVolumeSource { SecretName = apiTls.Name } });
            mounts.Add(new V1VolumeMount { Name = "tls", MountPath = ApiTlsDir, ReadOnlyProperty = true });
        }

        var container = new V1Container
        {
            Name = "manager",
            Image = spec.Image,
            Ports =
            [
                new V1ContainerPort { Name = "http", ContainerPort = HttpPort, Protocol = "TCP" },
                new V1ContainerPort { Name = "grpc", ContainerPort = GrpcPort, Protocol = "TCP" },
                new V1ContainerPort { Name = "health", ContainerPort = HealthPort, Protocol = "TCP" },
            ],
            Env = env,
            EnvFrom = AuthSettings(spec),
            VolumeMounts = mounts,
            Resources = spec.Resources is { } r ? new V1ResourceRequirements { Requests = r.Requests, Limits = r.Limits } : null,
            LivenessProbe = Probe("/healthz", 10),
            ReadinessProbe = Probe("/readyz", 5),
            SecurityContext = new V1SecurityContext
            {
                RunAsNonRoot = true,
                ReadOnlyRootFilesystem = true,
                AllowPrivilegeEscalation = false,
                Capabilities = new V1Capabilities { Drop = ["ALL"] },
            },
        };
        var spread = spec.TopologySpread ?? new PoolTopologySpread();
        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = Meta(pool),
            Spec = new V1DeploymentSpec
            {
                Replicas = replicas.Min, // only on create: afterwards the HPA owns replicas
                Selector = new V1LabelSelector { MatchLabels = PoolLabels.Selector(name) },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = PoolLabels.For(name) },
                    Spec = new V1PodSpec
                    {
                        ServiceAccountName = name,
                        AutomountServiceAccountToken = false,
                        SecurityContext = new V1PodSecurityContext
                        {
                            RunAsNonRoot = true,
                            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                        },
                        Containers = [container],
                        Volumes = volumes,
                        TopologySpreadConstraints = spread.Zones
                            ?
                            [
                                new V1TopologySpreadConstraint
                                {
                                    MaxSkew = spread.MaxSkew,
                                    TopologyKey = "topology.kubernetes.io/zone",
                                    WhenUnsatisfiable = "ScheduleAnyway",
                                    LabelSelector = new V1LabelSelector { MatchLabels = PoolLabels.Selector(name) },
                                },
                            ]
                            : null,
                    },
                },
            },
        };
    }

    private static V1EnvVar SecretEnv(string name, string secret, string key) => new()
    {
        Name = name,
        ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = key } },
    };

    /// <summary>The API's authentication settings: plain ones from a ConfigMap, the client secret from a Secret.</summary>
    private static List<V1EnvFromSource>? AuthSettings(FimManagerPoolSpec spec)
    {
        var sources = new List<V1EnvFromSource>();
        if (spec.AuthConfigMapRef is { } config)
        {
            sources.Add(new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = config.Name } });
        }
        if (spec.AuthSecretRef is { } secret)
        {
            sources.Add(new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = secret.Name } });
        }
        return sources.Count > 0 ? sources : null;
    }

    private static V1Probe Probe(string path, int period) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = (IntOrString)"health", Scheme = "HTTP" },
        PeriodSeconds = period,
        FailureThreshold = 3,
    };

    public static Dictionary<string, string> ServiceAnnotations(PoolService service)
    {
        var annotations = new Dictionary<string, string>();
        if (service.Type == "LoadBalancer")
        {
            annotations["service.beta.kubernetes.io/aws-load-balancer-type"] = "external";
            annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] = "ip";
            annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] = service.Scheme;
        }

        foreach (var (k, v) in service.Annotations ?? [])
        {
            annotations[k] = v;
        }

        return annotations;
    }

    private static V1Service Service(FimManagerPool pool, string name, PoolService service)
    {
        var ports = service.Ports ?? new PoolPorts();
        return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = Meta(pool, ServiceAnnotations(service)),
            Spec = new V1ServiceSpec
            {
                Type = service.Type,
                Selector = PoolLabels.Selector(name),
                Ports =
                [
                    new V1ServicePort { Name = "http", Port = ports.Http, TargetPort = (IntOrString)"http", Protocol = "TCP" },
                    new V1ServicePort { Name = "grpc", Port = ports.Grpc, TargetPort = (IntOrString)"grpc", Protocol = "TCP" },
                ],
            },
        };
    }

    private static V2HorizontalPodAutoscaler Autoscaler(FimManagerPool pool, string name, PoolReplicas replicas, PoolAutoscaling autoscaling) => new()
    {
        ApiVersion = "autoscaling/v2",
        Kind = "HorizontalPodAutoscaler",
        Metadata = Meta(pool),
        Spec = new V2HorizontalPodAutoscalerSpec
        {
            ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = name },
            MinReplicas = replicas.Min,
            MaxReplicas = Math.Max(replicas.Min, replicas.Max),
            Metrics =
            [
                new V2MetricSpec
                {
                    Type = "External",
                    External = new V2ExternalMetricSource
                    {
                        Metric = new V2MetricIdentifier { Name = PendingMetric },
                        Target = new V2MetricTarget { Type = "AverageValue", AverageValue = new ResourceQuantity(autoscaling.PendingPerReplica.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
                    },
                },
                new V2MetricSpec
                {
                    Type = "Resource",
                    Resource = new V2ResourceMetricSource
                    {
                        Name = "cpu",
                        Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = autoscaling.CpuUtilization },
                    },
                },
            ],
        },
    };
}

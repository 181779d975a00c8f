using System.Globalization;
using System.Text.Json.Nodes;
using Fim.Contracts;
using Fim.Operator.Api;
using k8s;
using k8s.Models;

namespace Fim.Operator.Controllers.Pool;

/// <summary>
/// The objects a FimManagerPool should own. Autoscaler (an HPA) exists with provider prometheus-adapter, ScaledObject
/// (KEDA) with provider keda; the one not wanted is deleted if the operator wrote it before.
/// </summary>
public sealed record PoolChildren(
    V1ServiceAccount ServiceAccount,
    V1Deployment Deployment,
    V1Service Service,
    V2HorizontalPodAutoscaler? Autoscaler,
    JsonObject? ScaledObject,
    V1PodDisruptionBudget DisruptionBudget,
    V1PersistentVolumeClaim? Claim = null);

/// <summary>
/// Pure: FimManagerPool spec -> the Deployment, Service (AWS NLB), autoscaler (an HPA on fim_consumer_pending + CPU,
/// or a KEDA ScaledObject on the consumer's lag), PDB and ServiceAccount it owns. Every child is named like the pool
/// and carries a controller ownerReference. What is built here is the operator's whole applied configuration
/// (server-side apply): a field left out is a field the operator does not own, e.g. the Deployment's replicas
/// whenever an autoscaler exists.
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

    /// <summary>The HPA's external metric selects the series of one pool by this label (docs/operator.md, "Autoscaling").</summary>
    public const string PoolMetricLabel = "pool";

    /// <summary>Seconds the manager is given to stop after preStop (drain in-flight work, settle acks).</summary>
    public const int ShutdownSeconds = 30;

    public const string KedaGroup = "keda.sh";
    public const string KedaVersion = "v1alpha1";
    public const string ScaledObjectPlural = "scaledobjects";
    private const string NatsTlsDir = "/etc/fim/nats-tls";
    private const string ApiTlsDir = "/etc/fim/tls";
    /// <summary>Where <see cref="PoolSinks.FilesSecretRef"/> is mounted.</summary>
    public const string SinkFilesDir = "/etc/fim/sinks";

    /// <summary>
    /// On the pod template: the resourceVersions of the Secrets and ConfigMaps the managers read when they start
    /// (environment variables, the store's connection and CA, mounted certificates and keys). A changed one changes the
    /// template, so the Deployment rolls the managers onto it; an environment variable never changes in a running container.
    /// </summary>
    public const string ConfigVersionsAnnotation = "fim.io/config-versions";

    /// <summary>"secret/name=resourceVersion,configmap/name=...": what the managers read, in order; missing ones are left out.</summary>
    public static string? ConfigVersions(FimManagerPoolSpec spec, Func<string, string?> secretVersion, Func<string, string?> configMapVersion)
    {
        var secrets = SecretsReadAtStart(spec)
            .Order(StringComparer.Ordinal)
            .Select(name => secretVersion(name) is { } rv ? $"secret/{name}={rv}" : null);
        var configMaps = ConfigMapReferences(spec)
            .Select(r => r.ConfigMap)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Select(name => configMapVersion(name) is { } rv ? $"configmap/{name}={rv}" : null);
        var versions = secrets.Concat(configMaps).OfType<string>().ToList();
        return versions.Count > 0 ? string.Join(',', versions) : null;
    }

    /// <summary>Every ConfigMap the pool refers to, with the field that names it.</summary>
    public static IReadOnlyList<(string Field, string ConfigMap)> ConfigMapReferences(FimManagerPoolSpec spec)
    {
        var refs = new List<(string, string)>();
        if (spec.AuthConfigMapRef is { } auth)
        {
            refs.Add(("authConfigMapRef", auth.Name));
        }

        if (spec.Sinks?.SettingsConfigMapRef is { } sinks)
        {
            refs.Add(("sinks.settingsConfigMapRef", sinks.Name));
        }

        if (spec.Store?.Postgres?.Tls?.CaConfigMapRef is { } ca)
        {
            refs.Add(("store.postgres.tls.caConfigMapRef", ca.Name));
        }

        return refs;
    }

    public static PoolChildren Build(FimManagerPool pool, string? configVersions = null)
    {
        var name = pool.Metadata.Name;
        var spec = pool.Spec;
        var replicas = PoolStoreSettings.Replicas(spec);
        // On SQLite exactly one manager runs: nothing to scale.
        var autoscaling = PoolStoreSettings.IsSqlite(spec) ? new PoolAutoscaling { Provider = PoolAutoscaling.NoProvider } : spec.Autoscaling ?? new PoolAutoscaling();
        var budget = spec.DisruptionBudget ?? new PoolDisruptionBudget();
        return new PoolChildren(
            new V1ServiceAccount
            {
                ApiVersion = "v1",
                Kind = "ServiceAccount",
                Metadata = Meta(pool, Copy(spec.ServiceAccountAnnotations)),
                AutomountServiceAccountToken = false,
            },
            Deployment(pool, name, spec, replicas, autoscaling, configVersions),
            Service(pool, name, spec.Service ?? new PoolService(), spec.TlsSecretRef is not null),
            autoscaling.Provider == PoolAutoscaling.PrometheusAdapterProvider ? Autoscaler(pool, name, replicas, autoscaling) : null,
            autoscaling.Provider == PoolAutoscaling.KedaProvider ? ScaledObject(pool, name, replicas, autoscaling) : null,
            new V1PodDisruptionBudget
            {
                ApiVersion = "policy/v1",
                Kind = "PodDisruptionBudget",
                Metadata = Meta(pool),
                Spec = new V1PodDisruptionBudgetSpec
                {
                    MaxUnavailable = (IntOrString)budget.MaxUnavailable.ToString(CultureInfo.InvariantCulture),
                    Selector = new V1LabelSelector { MatchLabels = PoolLabels.Selector(name) },
                    UnhealthyPodEvictionPolicy = budget.UnhealthyPodEvictionPolicy,
                },
            },
            PoolStoreSettings.Claim(pool, Meta(pool)));
    }

    /// <summary>Problems in the spec the CRD's CEL rules also catch (an API server without CEL, or an older CRD): none = valid.</summary>
    public static IReadOnlyList<string> SpecProblems(FimManagerPoolSpec spec)
    {
        var problems = new List<string>();
        if (spec.Replicas is { } r && r.Min > r.Max)
        {
            problems.Add($"replicas.min ({r.Min}) must not exceed replicas.max ({r.Max})");
        }

        if (spec.Autoscaling is { Provider: PoolAutoscaling.KedaProvider, Keda: null })
        {
            problems.Add("autoscaling.keda is required when autoscaling.provider is keda");
        }

        if (spec.Service is { Tls: not null, Type: not "LoadBalancer" })
        {
            problems.Add("service.tls (TLS offload at the NLB) needs service.type LoadBalancer");
        }

        problems.AddRange(PoolStoreSettings.Problems(spec));
        problems.AddRange(PoolFleetSettings.Problems(spec.Fleet));
        problems.AddRange(Chaos.PoolChaosSettings.Problems(spec.Chaos));
        return problems;
    }

    /// <summary>Every Secret whose arrival or change should wake the pool: <see cref="SecretReferences"/> and the store's.</summary>
    public static IEnumerable<string> WatchedSecrets(FimManagerPoolSpec spec) =>
        SecretsReadAtStart(spec).Concat(PullSecretReferences(spec).Select(r => r.Secret)).Distinct(StringComparer.Ordinal);

    /// <summary>The Secrets the managers read when they start: <see cref="ManagerSecretReferences"/> and the store's.</summary>
    private static IEnumerable<string> SecretsReadAtStart(FimManagerPoolSpec spec) =>
        ManagerSecretReferences(spec).Select(r => r.Secret).Concat(PoolStoreSettings.SecretKeys(spec).Select(k => k.Secret)).Distinct(StringComparer.Ordinal);

    /// <summary>Every Secret the pool refers to, with the field that names it.</summary>
    public static IReadOnlyList<(string Field, string Secret)> SecretReferences(FimManagerPoolSpec spec) =>
        [.. ManagerSecretReferences(spec), .. PullSecretReferences(spec)];

    private static IEnumerable<(string Field, string Secret)> PullSecretReferences(FimManagerPoolSpec spec) =>
        (spec.ImagePullSecrets ?? []).Select((s, i) => ($"imagePullSecrets[{i}]", s.Name));

    /// <summary>The Secrets the pool's fields hand to the managers (environment, mounted files), with the field that names each.</summary>
    private static List<(string Field, string Secret)> ManagerSecretReferences(FimManagerPoolSpec spec)
    {
        var refs = new List<(string, string)>();
        if (spec.Nats.SecretRef is { } a)
        {
            refs.Add(("nats.secretRef", a.Name));
        }

        if (spec.Nats.TlsSecretRef is { } t)
        {
            refs.Add(("nats.tlsSecretRef", t.Name));
        }

        if (spec.TlsSecretRef is { } api)
        {
            refs.Add(("tlsSecretRef", api.Name));
        }

        if (spec.Enrollment is { } enrollment)
        {
            refs.Add(("enrollment.secretRef", enrollment.SecretRef.Name));
        }

        if (spec.AuthSecretRef is { } auth)
        {
            refs.Add(("authSecretRef", auth.Name));
        }

        if (spec.Sinks?.SettingsSecretRef is { } sinkSettings)
        {
            refs.Add(("sinks.settingsSecretRef", sinkSettings.Name));
        }

        if (spec.Sinks?.FilesSecretRef is { } sinkFiles)
        {
            refs.Add(("sinks.filesSecretRef", sinkFiles.Name));
        }

        return refs;
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

    private static Dictionary<string, string>? PodAnnotations(FimManagerPoolSpec spec, string? configVersions)
    {
        var annotations = Copy(spec.PodAnnotations);
        if (configVersions is not null)
        {
            annotations ??= [];
            annotations[ConfigVersionsAnnotation] = configVersions;
        }
        return annotations;
    }

    private static Dictionary<string, string>? Copy(Dictionary<string, string>? map) => map is { Count: > 0 } ? new Dictionary<string, string>(map) : null;

    private static V1Deployment Deployment(FimManagerPool pool, string name, FimManagerPoolSpec spec, PoolReplicas replicas, PoolAutoscaling autoscaling, string? configVersions)
    {
        var service = spec.Service ?? new PoolService();
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

        if (spec.Enrollment is { } enrollment)
        {
            PoolEnrollmentSettings.Add(enrollment, env, volumes, mounts);
        }

        PoolStoreSettings.Add(pool, env, volumes, mounts);
        PoolFleetSettings.Add(spec.Fleet, env);

        if (spec.Sinks?.FilesSecretRef is { } sinkFiles)
        {
            volumes.Add(new V1Volume { Name = "sink-files", Secret = new V1SecretVolumeSource { SecretName = sinkFiles.Name } });
            mounts.Add(new V1VolumeMount { Name = "sink-files", MountPath = SinkFilesDir, ReadOnlyProperty = true });
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
            EnvFrom = SettingsFrom(spec),
            VolumeMounts = mounts,
            Resources = spec.Resources is { } r ? new V1ResourceRequirements { Requests = r.Requests, Limits = r.Limits } : null,
            LivenessProbe = Probe("/healthz", 10),
            ReadinessProbe = Probe("/readyz", 5),
            // Behind an NLB the pod keeps serving while the target deregisters: the LB stops sending new connections
            // only after a while, so the pod must not stop listening before that.
            Lifecycle = service.Type == "LoadBalancer" && service.DeregistrationDelaySeconds > 0
                ? new V1Lifecycle { PreStop = new V1LifecycleHandler { Sleep = new V1SleepAction { Seconds = service.DeregistrationDelaySeconds } } }
                : null,
            SecurityContext = new V1SecurityContext
            {
                RunAsNonRoot = true,
                ReadOnlyRootFilesystem = true,
                AllowPrivilegeEscalation = false,
                Capabilities = new V1Capabilities { Drop = ["ALL"] },
            },
        };
        var spread = spec.TopologySpread ?? new PoolTopologySpread();
        var preStop = container.Lifecycle?.PreStop?.Sleep?.Seconds ?? 0;
        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = Meta(pool),
            Spec = new V1DeploymentSpec
            {
                // Owned only without an autoscaler: with one, the HPA (or KEDA's) owns replicas and the operator never
                // applies the field, so it never takes it back.
                Replicas = autoscaling.Provider == PoolAutoscaling.NoProvider ? replicas.Min : null,
                // A ReadWriteOnce claim cannot follow a surge pod to another node: the old pod goes first.
                Strategy = PoolStoreSettings.IsSqlite(spec) ? new V1DeploymentStrategy { Type = "Recreate" } : null,
                Selector = new V1LabelSelector { MatchLabels = PoolLabels.Selector(name) },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = PoolLabels.For(name), Annotations = PodAnnotations(spec, configVersions) },
                    Spec = new V1PodSpec
                    {
                        ServiceAccountName = name,
                        AutomountServiceAccountToken = false,
                        TerminationGracePeriodSeconds = preStop + ShutdownSeconds,
                        SecurityContext = new V1PodSecurityContext
                        {
                            RunAsNonRoot = true,
                            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                            // The SQLite claim is made writable for the manager's group.
                            FsGroup = PoolStoreSettings.IsSqlite(spec) ? PoolStoreSettings.ManagerGroup : null,
                            FsGroupChangePolicy = PoolStoreSettings.IsSqlite(spec) ? "OnRootMismatch" : null,
                        },
                        Containers = [container],
                        Volumes = volumes,
                        NodeSelector = Copy(spec.NodeSelector),
                        Tolerations = spec.Tolerations is { Count: > 0 } tolerations
                            ? [.. tolerations.Select(t => new V1Toleration { Key = t.Key, OperatorProperty = t.Operator, Value = t.Value, Effect = t.Effect, TolerationSeconds = t.TolerationSeconds })]
                            : null,
                        Affinity = spec.Affinity is { } affinity ? KubernetesJson.Deserialize<V1Affinity>(affinity.ToJsonString()) : null,
                        PriorityClassName = spec.PriorityClassName,
                        ImagePullSecrets = spec.ImagePullSecrets is { Count: > 0 } pull ? [.. pull.Select(p => new V1LocalObjectReference { Name = p.Name })] : null,
                        TopologySpreadConstraints = Spread(name, spread),
                    },
                },
            },
        };
    }

    private static List<V1TopologySpreadConstraint>? Spread(string name, PoolTopologySpread spread)
    {
        var keys = new List<string>();
        if (spread.Zones)
        {
            keys.Add("topology.kubernetes.io/zone");
        }

        if (spread.Nodes)
        {
            keys.Add("kubernetes.io/hostname");
        }

        return keys.Count == 0
            ? null
            : [.. keys.Select(key => new V1TopologySpreadConstraint
            {
                MaxSkew = spread.MaxSkew,
                TopologyKey = key,
                WhenUnsatisfiable = "ScheduleAnyway",
                LabelSelector = new V1LabelSelector { MatchLabels = PoolLabels.Selector(name) },
            })];
    }

    private static V1EnvVar SecretEnv(string name, string secret, string key) => new()
    {
        Name = name,
        ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = key } },
    };

    /// <summary>Settings the managers read from the environment: the API's authentication and the alert sinks, plain ones from ConfigMaps, secret ones from Secrets.</summary>
    private static List<V1EnvFromSource>? SettingsFrom(FimManagerPoolSpec spec)
    {
        var sources = new List<V1EnvFromSource>();
        foreach (var config in new[] { spec.AuthConfigMapRef, spec.Sinks?.SettingsConfigMapRef })
        {
            if (config is not null)
            {
                sources.Add(new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = config.Name } });
            }
        }
        foreach (var secret in new[] { spec.AuthSecretRef, spec.Sinks?.SettingsSecretRef })
        {
            if (secret is not null)
            {
                sources.Add(new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = secret.Name } });
            }
        }
        return sources.Count > 0 ? sources : null;
    }

    private static V1Probe Probe(string path, int period) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = (IntOrString)"health", Scheme = "HTTP" },
        PeriodSeconds = period,
        FailureThreshold = 3,
    };

    public static Dictionary<string, string> ServiceAnnotations(PoolService service, bool endToEndTls = false)
    {
        var annotations = new Dictionary<string, string>();
        if (service.Type == "LoadBalancer")
        {
            annotations["service.beta.kubernetes.io/aws-load-balancer-type"] = "external";
            annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] = "ip";
            annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] = service.Scheme;
            annotations["service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"] =
                $"deregistration_delay.timeout_seconds={service.DeregistrationDelaySeconds.ToString(CultureInfo.InvariantCulture)}";
            if (service.Tls is { } tls)
            {
                annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"] = tls.CertificateArn;
                annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"] = "http,grpc";
                annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"] = tls.SslPolicy;
                annotations["service.beta.kubernetes.io/aws-load-balancer-alpn-policy"] = "HTTP2Preferred";
                annotations["service.beta.kubernetes.io/aws-load-balancer-backend-protocol"] = endToEndTls ? "ssl" : "tcp";
            }
        }

        foreach (var (k, v) in service.Annotations ?? [])
        {
            annotations[k] = v;
        }

        return annotations;
    }

    private static V1Service Service(FimManagerPool pool, string name, PoolService service, bool endToEndTls)
    {
        var ports = service.Ports ?? new PoolPorts();
        var annotations = ServiceAnnotations(service, endToEndTls);
        var meta = Meta(pool, annotations.Count > 0 ? annotations : null);
        foreach (var (k, v) in service.Labels ?? [])
        {
            meta.Labels.TryAdd(k, v);
        }

        return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = meta,
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
            MaxReplicas = replicas.Max,
            Metrics =
            [
                new V2MetricSpec
                {
                    Type = "External",
                    External = new V2ExternalMetricSource
                    {
                        Metric = new V2MetricIdentifier
                        {
                            Name = PendingMetric,
                            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [PoolMetricLabel] = name } },
                        },
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

    /// <summary>A KEDA ScaledObject on the pool's Deployment: the NATS JetStream scaler on the managers' consumer, plus CPU.</summary>
    private static JsonObject ScaledObject(FimManagerPool pool, string name, PoolReplicas replicas, PoolAutoscaling autoscaling)
    {
        var keda = autoscaling.Keda ?? new PoolKeda();
        var meta = JsonNode.Parse(KubernetesJson.Serialize(Meta(pool)))!;
        return new JsonObject
        {
            ["apiVersion"] = $"{KedaGroup}/{KedaVersion}",
            ["kind"] = "ScaledObject",
            ["metadata"] = meta,
            ["spec"] = new JsonObject
            {
                ["scaleTargetRef"] = new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "Deployment", ["name"] = name },
                ["minReplicaCount"] = replicas.Min,
                ["maxReplicaCount"] = replicas.Max,
                ["pollingInterval"] = keda.PollingInterval,
                ["cooldownPeriod"] = keda.CooldownPeriod,
                ["triggers"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["type"] = "nats-jetstream",
                        ["metadata"] = new JsonObject
                        {
                            ["natsServerMonitoringEndpoint"] = keda.NatsMonitoringEndpoint,
                            ["account"] = keda.Account,
                            ["stream"] = Subjects.EventsStream,
                            ["consumer"] = Subjects.ManagersConsumer,
                            ["lagThreshold"] = autoscaling.PendingPerReplica.ToString(CultureInfo.InvariantCulture),
                            ["useHttps"] = keda.UseHttps ? "true" : "false",
                        },
                    },
                    new JsonObject
                    {
                        ["type"] = "cpu",
                        ["metricType"] = "Utilization",
                        ["metadata"] = new JsonObject { ["value"] = autoscaling.CpuUtilization.ToString(CultureInfo.InvariantCulture) },
                    },
                },
            },
        };
    }
}

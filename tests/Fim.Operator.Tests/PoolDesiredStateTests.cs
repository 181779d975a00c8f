using Fim.Operator.Api;
using Fim.Operator.Controllers.Pool;

namespace Fim.Operator.Tests;

public sealed class PoolDesiredStateTests
{
    private static PoolChildren Build(Action<FimManagerPoolSpec>? edit = null)
    {
        var pool = Samples.Stored(Samples.Pool());
        edit?.Invoke(pool.Spec);
        return PoolDesiredState.Build(pool);
    }

    [Fact]
    public void Every_child_is_named_like_the_pool_labelled_and_controlled_by_it()
    {
        var c = Build();
        foreach (var meta in new[] { c.Deployment.Metadata, c.Service.Metadata, c.Autoscaler!.Metadata, c.DisruptionBudget.Metadata, c.ServiceAccount.Metadata })
        {
            Assert.Equal("managers", meta.Name);
            Assert.Equal("default", meta.NamespaceProperty);
            Assert.Equal("fim-operator", meta.Labels["app.kubernetes.io/managed-by"]);
            var owner = Assert.Single(meta.OwnerReferences);
            Assert.Equal(("fim.io/v1alpha1", "FimManagerPool", "managers", "uid-1", true), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.Controller == true));
        }
    }

    [Fact]
    public void Deployment_is_hardened_probed_spread_and_reads_NATS_credentials_from_the_secret()
    {
        var d = Build().Deployment;
        Assert.Null(d.Spec.Replicas); // an autoscaler owns replicas: the applied configuration leaves them out
        var pod = d.Spec.Template.Spec;
        Assert.Equal("managers", pod.ServiceAccountName);
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        var c = Assert.Single(pod.Containers);
        Assert.Equal("ghcr.io/fimoperator/fim-manager:0.1.0", c.Image);
        Assert.True(c.SecurityContext.ReadOnlyRootFilesystem);
        Assert.True(c.SecurityContext.RunAsNonRoot);
        Assert.False(c.SecurityContext.AllowPrivilegeEscalation);
        Assert.Equal(["ALL"], c.SecurityContext.Capabilities.Drop);
        Assert.Equal("/healthz", c.LivenessProbe.HttpGet.Path);
        Assert.Equal("/readyz", c.ReadinessProbe.HttpGet.Path);
        Assert.Equal("250m", c.Resources.Requests["cpu"].ToString());
        var password = Assert.Single(c.Env, e => e.Name == "Fim__Nats__Password");
        Assert.Null(password.Value);
        Assert.Equal(("nats-auth", "password"), (password.ValueFrom.SecretKeyRef.Name, password.ValueFrom.SecretKeyRef.Key));
        Assert.Equal("nats://nats:4222", c.Env.Single(e => e.Name == "Fim__Nats__Url").Value);
        Assert.Equal(["topology.kubernetes.io/zone", "kubernetes.io/hostname"], pod.TopologySpreadConstraints.Select(t => t.TopologyKey));
        Assert.All(pod.TopologySpreadConstraints, spread =>
        {
            Assert.Equal((1, "ScheduleAnyway"), (spread.MaxSkew, spread.WhenUnsatisfiable));
            Assert.Equal(d.Spec.Selector.MatchLabels, spread.LabelSelector.MatchLabels);
        });
        Assert.All(d.Spec.Selector.MatchLabels, kv => Assert.Equal(kv.Value, d.Spec.Template.Metadata.Labels[kv.Key]));
    }

    [Fact]
    public void Tls_secrets_are_mounted_probes_stay_on_the_plaintext_health_port_and_zones_can_be_off()
    {
        var d = Build(s =>
        {
            s.TlsSecretRef = new SecretReference { Name = "api-tls" };
            s.Nats.TlsSecretRef = new SecretReference { Name = "nats-tls" };
            s.TopologySpread = new PoolTopologySpread { Zones = false, Nodes = false };
        }).Deployment;
        var pod = d.Spec.Template.Spec;
        Assert.Contains(pod.Volumes, v => v.Secret?.SecretName == "api-tls");
        Assert.Contains(pod.Volumes, v => v.Secret?.SecretName == "nats-tls");
        // Probes use the health port, which is plaintext and outside the Service, whatever the API serves.
        Assert.Equal("HTTP", pod.Containers[0].ReadinessProbe.HttpGet.Scheme);
        Assert.Equal("health", pod.Containers[0].ReadinessProbe.HttpGet.Port.Value);
        Assert.Contains(pod.Containers[0].Ports, p => p.Name == "health" && p.ContainerPort == PoolDesiredState.HealthPort);
        Assert.Equal("status.podIP", pod.Containers[0].Env.Single(e => e.Name == "Fim__Api__Address").ValueFrom.FieldRef.FieldPath);
        Assert.Contains(pod.Containers[0].Env, e => e.Name == "Fim__Nats__TlsCertFile");
        Assert.Null(pod.TopologySpreadConstraints);
    }

    [Fact]
    public void Service_is_an_NLB_with_the_scheme_and_user_annotations_win()
    {
        var s = Build(s => s.Service = new PoolService
        {
            Scheme = "internet-facing",
            Annotations = new() { ["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] = "instance", ["team"] = "sec" },
            Ports = new PoolPorts { Http = 8443, Grpc = 9443 },
        }).Service;
        Assert.Equal("LoadBalancer", s.Spec.Type);
        Assert.Equal("external", s.Metadata.Annotations["service.beta.kubernetes.io/aws-load-balancer-type"]);
        Assert.Equal("internet-facing", s.Metadata.Annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"]);
        Assert.Equal("instance", s.Metadata.Annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"]);
        Assert.Equal("sec", s.Metadata.Annotations["team"]);
        Assert.Equal([8443, 9443], s.Spec.Ports.Select(p => p.Port));
        Assert.Equal(["http", "grpc"], s.Spec.Ports.Select(p => p.TargetPort.Value));
    }

    [Fact]
    public void Hpa_scales_the_deployment_on_consumer_pending_and_cpu_and_pdb_allows_one_disruption()
    {
        var c = Build();
        var hpa = c.Autoscaler!.Spec;
        Assert.Null(c.ScaledObject);
        Assert.Equal(("Deployment", "managers", 2, 6), (hpa.ScaleTargetRef.Kind, hpa.ScaleTargetRef.Name, hpa.MinReplicas, hpa.MaxReplicas));
        var external = Assert.Single(hpa.Metrics, m => m.Type == "External").External;
        Assert.Equal("fim_consumer_pending", external.Metric.Name);
        Assert.Equal(new Dictionary<string, string> { ["pool"] = "managers" }, external.Metric.Selector.MatchLabels);
        Assert.Equal(("AverageValue", 5000m), (external.Target.Type, external.Target.AverageValue.ToDecimal()));
        Assert.Equal(70, Assert.Single(hpa.Metrics, m => m.Type == "Resource").Resource.Target.AverageUtilization);
        Assert.Equal("1", c.DisruptionBudget.Spec.MaxUnavailable.Value);
        Assert.Equal("AlwaysAllow", c.DisruptionBudget.Spec.UnhealthyPodEvictionPolicy);
        Assert.Equal(c.Deployment.Spec.Selector.MatchLabels, c.DisruptionBudget.Spec.Selector.MatchLabels);
    }

    [Fact]
    public void Keda_provider_writes_a_ScaledObject_on_the_consumer_lag_and_no_HPA()
    {
        var c = Build(s => s.Autoscaling = new PoolAutoscaling
        {
            Provider = PoolAutoscaling.KedaProvider,
            PendingPerReplica = 500,
            Keda = new PoolKeda { NatsMonitoringEndpoint = "nats.fim.svc:8222" },
        });
        Assert.Null(c.Autoscaler);
        Assert.Null(c.Deployment.Spec.Replicas);
        var so = c.ScaledObject!;
        Assert.Equal(("keda.sh/v1alpha1", "ScaledObject"), (so["apiVersion"]!.GetValue<string>(), so["kind"]!.GetValue<string>()));
        Assert.Equal("uid-1", so["metadata"]!["ownerReferences"]![0]!["uid"]!.GetValue<string>());
        var spec = so["spec"]!;
        Assert.Equal(("managers", 2, 6), (spec["scaleTargetRef"]!["name"]!.GetValue<string>(), spec["minReplicaCount"]!.GetValue<int>(), spec["maxReplicaCount"]!.GetValue<int>()));
        var nats = spec["triggers"]![0]!;
        Assert.Equal("nats-jetstream", nats["type"]!.GetValue<string>());
        Assert.Equal(
            ("nats.fim.svc:8222", "$G", "FIM_EVENTS", "fim-managers", "500"),
            (nats["metadata"]!["natsServerMonitoringEndpoint"]!.GetValue<string>(), nats["metadata"]!["account"]!.GetValue<string>(),
             nats["metadata"]!["stream"]!.GetValue<string>(), nats["metadata"]!["consumer"]!.GetValue<string>(), nats["metadata"]!["lagThreshold"]!.GetValue<string>()));
        Assert.Equal("cpu", spec["triggers"]![1]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void Without_an_autoscaler_the_operator_owns_replicas_at_min()
    {
        var c = Build(s => s.Autoscaling = new PoolAutoscaling { Provider = PoolAutoscaling.NoProvider });
        Assert.Equal(2, c.Deployment.Spec.Replicas);
        Assert.Null(c.Autoscaler);
        Assert.Null(c.ScaledObject);
    }

    [Fact]
    public void Scheduling_pull_secrets_and_annotations_reach_the_pod_and_the_ServiceAccount()
    {
        var c = Build(s =>
        {
            s.NodeSelector = new() { ["node.kubernetes.io/pool"] = "fim" };
            s.Tolerations = [new PoolToleration { Key = "dedicated", Operator = "Equal", Value = "fim", Effect = "NoSchedule" }];
            s.Affinity = (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse("""
                {"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/arch","operator":"In","values":["arm64"]}]}]}}}
                """)!;
            s.PriorityClassName = "fim-critical";
            s.PodAnnotations = new() { ["prometheus.io/scrape"] = "true" };
            s.ServiceAccountAnnotations = new() { ["eks.amazonaws.com/role-arn"] = "arn:aws:iam::1:role/fim" };
            s.ImagePullSecrets = [new SecretReference { Name = "ghcr" }];
            s.DisruptionBudget = new PoolDisruptionBudget { MaxUnavailable = 2, UnhealthyPodEvictionPolicy = "IfHealthyBudget" };
        });
        var pod = c.Deployment.Spec.Template.Spec;
        Assert.Equal("fim", pod.NodeSelector["node.kubernetes.io/pool"]);
        Assert.Equal(("dedicated", "Equal", "fim", "NoSchedule"), (pod.Tolerations[0].Key, pod.Tolerations[0].OperatorProperty, pod.Tolerations[0].Value, pod.Tolerations[0].Effect));
        Assert.Equal("arm64", pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values[0]);
        Assert.Equal("fim-critical", pod.PriorityClassName);
        Assert.Equal("ghcr", pod.ImagePullSecrets.Single().Name);
        Assert.Equal("true", c.Deployment.Spec.Template.Metadata.Annotations["prometheus.io/scrape"]);
        Assert.Equal("arn:aws:iam::1:role/fim", c.ServiceAccount.Metadata.Annotations["eks.amazonaws.com/role-arn"]);
        Assert.Equal(("2", "IfHealthyBudget"), (c.DisruptionBudget.Spec.MaxUnavailable.Value, c.DisruptionBudget.Spec.UnhealthyPodEvictionPolicy));
        Assert.Contains(("imagePullSecrets[0]", "ghcr"), PoolDesiredState.SecretReferences(Samples.Stored(Samples.Pool()).Spec.Also(sp => sp.ImagePullSecrets = [new SecretReference { Name = "ghcr" }])));
    }

    [Fact]
    public void Sink_settings_reach_the_managers_environment_and_their_files_are_mounted_read_only()
    {
        var c = Build(s =>
        {
            s.AuthConfigMapRef = new SecretReference { Name = "auth" };
            s.Sinks = new PoolSinks
            {
                SettingsConfigMapRef = new SecretReference { Name = "sinks" },
                SettingsSecretRef = new SecretReference { Name = "sink-secrets" },
                FilesSecretRef = new SecretReference { Name = "sink-files" },
            };
        });
        var pod = c.Deployment.Spec.Template.Spec;
        var manager = Assert.Single(pod.Containers);
        Assert.Equal(["configMap auth", "configMap sinks", "secret sink-secrets"],
            manager.EnvFrom.Select(e => e.ConfigMapRef is { } m ? $"configMap {m.Name}" : $"secret {e.SecretRef.Name}"));
        var mount = Assert.Single(manager.VolumeMounts, m => m.MountPath == PoolDesiredState.SinkFilesDir);
        Assert.True(mount.ReadOnlyProperty);
        Assert.Equal("sink-files", Assert.Single(pod.Volumes, v => v.Name == mount.Name).Secret.SecretName);

        var spec = Samples.Stored(Samples.Pool()).Spec.Also(sp =>
        {
            sp.AuthSecretRef = new SecretReference { Name = "oidc-client" };
            sp.Sinks = new PoolSinks
            {
                SettingsSecretRef = new SecretReference { Name = "sink-secrets" },
                FilesSecretRef = new SecretReference { Name = "sink-files" },
            };
        });
        Assert.Contains(("authSecretRef", "oidc-client"), PoolDesiredState.SecretReferences(spec));
        // What the managers read at start, with versions, in name order; pull secrets and missing ones left out.
        spec.ImagePullSecrets = [new SecretReference { Name = "ghcr" }];
        spec.AuthConfigMapRef = new SecretReference { Name = "auth" };
        spec.Sinks.SettingsConfigMapRef = new SecretReference { Name = "sinks" };
        Assert.Equal([("authConfigMapRef", "auth"), ("sinks.settingsConfigMapRef", "sinks")], PoolDesiredState.ConfigMapReferences(spec));
        var versions = PoolDesiredState.ConfigVersions(spec, name => name == "sink-files" ? null : name + "-rv", name => name == "auth" ? "7" : null);
        Assert.Equal("secret/managers-db=managers-db-rv,secret/nats-auth=nats-auth-rv,secret/oidc-client=oidc-client-rv,secret/sink-secrets=sink-secrets-rv,configmap/auth=7", versions);
        var template = PoolDesiredState.Build(Samples.Stored(Samples.Pool()), versions).Deployment.Spec.Template.Metadata.Annotations;
        Assert.Equal(versions, template[PoolDesiredState.ConfigVersionsAnnotation]);
        Assert.Null(PoolDesiredState.Build(Samples.Stored(Samples.Pool())).Deployment.Spec.Template.Metadata.Annotations);
        Assert.Contains(("sinks.settingsSecretRef", "sink-secrets"), PoolDesiredState.SecretReferences(spec));
        Assert.Contains(("sinks.filesSecretRef", "sink-files"), PoolDesiredState.SecretReferences(spec));
        Assert.DoesNotContain(Build(_ => { }).Deployment.Spec.Template.Spec.Volumes, v => v.Name == mount.Name);
    }

    [Fact]
    public void Behind_an_NLB_pods_sleep_the_deregistration_delay_before_stopping_and_get_time_to_shut_down()
    {
        var c = Build(s => s.Service = new PoolService { DeregistrationDelaySeconds = 45 });
        Assert.Equal(45, c.Deployment.Spec.Template.Spec.Containers[0].Lifecycle.PreStop.Sleep.Seconds);
        Assert.Equal(45 + PoolDesiredState.ShutdownSeconds, c.Deployment.Spec.Template.Spec.TerminationGracePeriodSeconds);
        Assert.Equal("deregistration_delay.timeout_seconds=45", c.Service.Metadata.Annotations["service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"]);

        var clusterIp = Build(s => s.Service = new PoolService { Type = "ClusterIP" });
        Assert.Null(clusterIp.Deployment.Spec.Template.Spec.Containers[0].Lifecycle);
        Assert.Null(clusterIp.Service.Metadata.Annotations);
    }

    [Fact]
    public void Tls_offload_at_the_NLB_sets_the_certificate_annotations_and_reencrypts_only_with_end_to_end_tls()
    {
        var offload = Build(s => s.Service = new PoolService { Tls = new PoolServiceTls { CertificateArn = "arn:aws:acm:eu-west-1:1:certificate/x" } }).Service.Metadata.Annotations;
        Assert.Equal("arn:aws:acm:eu-west-1:1:certificate/x", offload["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"]);
        Assert.Equal("http,grpc", offload["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"]);
        Assert.Equal("tcp", offload["service.beta.kubernetes.io/aws-load-balancer-backend-protocol"]);
        var endToEnd = Build(s =>
        {
            s.Service = new PoolService { Tls = new PoolServiceTls { CertificateArn = "arn:aws:acm:eu-west-1:1:certificate/x" } };
            s.TlsSecretRef = new SecretReference { Name = "api-tls" };
        }).Service.Metadata.Annotations;
        Assert.Equal("ssl", endToEnd["service.beta.kubernetes.io/aws-load-balancer-backend-protocol"]);
    }

    [Fact]
    public void Cross_field_mistakes_are_problems_not_clamped()
    {
        var spec = Samples.Stored(Samples.Pool()).Spec;
        Assert.Empty(PoolDesiredState.SpecProblems(spec));
        spec.Replicas = new PoolReplicas { Min = 5, Max = 3 };
        spec.Autoscaling = new PoolAutoscaling { Provider = PoolAutoscaling.KedaProvider };
        spec.Service = new PoolService { Type = "ClusterIP", Tls = new PoolServiceTls { CertificateArn = "arn:x" } };
        Assert.Equal(
            ["replicas.min (5) must not exceed replicas.max (3)", "autoscaling.keda is required when autoscaling.provider is keda", "service.tls (TLS offload at the NLB) needs service.type LoadBalancer"],
            PoolDesiredState.SpecProblems(spec));
    }
}

internal static class SpecExtensions
{
    public static T Also<T>(this T o, Action<T> edit)
    {
        edit(o);
        return o;
    }
}

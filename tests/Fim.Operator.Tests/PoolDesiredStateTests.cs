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
        foreach (var meta in new[] { c.Deployment.Metadata, c.Service.Metadata, c.Autoscaler.Metadata, c.DisruptionBudget.Metadata, c.ServiceAccount.Metadata })
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
        Assert.Equal(2, d.Spec.Replicas);
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
        var spread = Assert.Single(pod.TopologySpreadConstraints);
        Assert.Equal(("topology.kubernetes.io/zone", 1), (spread.TopologyKey, spread.MaxSkew));
        Assert.Equal(d.Spec.Selector.MatchLabels, spread.LabelSelector.MatchLabels);
        Assert.All(d.Spec.Selector.MatchLabels, kv => Assert.Equal(kv.Value, d.Spec.Template.Metadata.Labels[kv.Key]));
    }

    [Fact]
    public void Tls_secrets_are_mounted_probes_stay_on_the_plaintext_health_port_and_zones_can_be_off()
    {
        var d = Build(s =>
        {
            s.TlsSecretRef = new SecretReference { Name = "api-tls" };
            s.Nats.TlsSecretRef = new SecretReference { Name = "nats-tls" };
            s.TopologySpread = new PoolTopologySpread { Zones = false };
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
        var hpa = c.Autoscaler.Spec;
        Assert.Equal(("Deployment", "managers", 2, 6), (hpa.ScaleTargetRef.Kind, hpa.ScaleTargetRef.Name, hpa.MinReplicas, hpa.MaxReplicas));
        var external = Assert.Single(hpa.Metrics, m => m.Type == "External").External;
        Assert.Equal("fim_consumer_pending", external.Metric.Name);
        Assert.Equal(("AverageValue", 5000m), (external.Target.Type, external.Target.AverageValue.ToDecimal()));
        Assert.Equal(70, Assert.Single(hpa.Metrics, m => m.Type == "Resource").Resource.Target.AverageUtilization);
        Assert.Equal("1", c.DisruptionBudget.Spec.MaxUnavailable.Value);
        Assert.Equal(c.Deployment.Spec.Selector.MatchLabels, c.DisruptionBudget.Spec.Selector.MatchLabels);
    }
}

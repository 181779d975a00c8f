using Fim.Contracts;
using Fim.Testing;
using k8s.Models;

namespace Fim.Deploy.Tests;

public sealed class ChartTests
{
    /// <summary>The repository's own CRDs (crds/), keyed by apiVersion/kind.</summary>
    private static readonly Lazy<Dictionary<string, V1JSONSchemaProps>> Crds = new(() =>
        StrictValidation.LoadCrds(Directory.GetFiles(Path.Combine(Repo.Root, "crds"), "*.yaml")));

    public static TheoryData<string[]> Matrix => new()
    {
        Array.Empty<string>(),
        new[] { "nats.mode=bundled", "nats.bundled.authorization.agents={node-a,node-b}" },
        new[] { "managerPool.autoscaling.enabled=false" },
        new[] { "agent.enabled=false" },
        new[] { "managerPool.extraEgress[0].to[0].ipBlock.cidr=10.30.0.0/16", "managerPool.extraEgress[0].ports[0].port=443", "managerPool.extraEgress[0].ports[0].protocol=TCP" },
        new[] { "operator.scope=namespace", "agent.fanotify.enabled=true", "nats.external.authSecretName=nats-auth", "nats.external.tlsSecretName=nats-tls", "nats.external.cidrs={10.0.0.0/16}" },
        new[] { "networkPolicies.enabled=false", "monitoring.prometheusRule.enabled=false", "monitoring.serviceMonitor.enabled=false", "monitoring.grafanaDashboard.enabled=false", "managerPool.enabled=false" },
        new[] { "managerPool.enrollment.enabled=true", "agent.enrollment.enabled=true", "nats.external.authSecretName=nats-auth", "managerPool.enrollment.requireSignatures=true" },
        new[] { "store.backend=sqlite", "store.sqlite.persistence.storageClass=gp3", "managerPool.fleet.disconnectedAfter=10m", "managerPool.fleet.pruneAfter=7d" },
        new[] { "managerPool.sinks.settings.Syslog.Host=siem.example.com", "managerPool.sinks.settingsSecretName=fim-sink-secrets", "managerPool.sinks.filesSecretName=fim-sink-files" },
        new[] { "store.backend=postgres", "store.postgres.existingSecret=fim-db", "store.postgres.tls.sslMode=verify-full", "store.postgres.tls.caSecret=fim-db-ca", "store.postgres.cidrs={10.1.0.0/16}" },
    };

    [Theory]
    [InlineData]
    [InlineData("nats.mode=bundled")]
    [InlineData("store.backend=sqlite", "managerPool.fleet.pruneAfter=7d")]
    [InlineData("store.backend=postgres", "store.postgres.existingSecret=fim-db")]
    public void Helm_lint_strict_is_clean(params string[] sets)
    {
        var args = new List<string> { "lint", "--strict", Repo.Chart };
        foreach (var s in sets)
        {
            args.AddRange(["--set", s]);
        }
        var r = KubeTools.Helm(args);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("0 chart(s) failed", r.Stdout);
        Assert.DoesNotContain("[WARNING]", r.Stdout);
        Assert.DoesNotContain("[ERROR]", r.Stdout);
    }

    /// <summary>
    /// Built-in kinds parse strictly, the chart's own custom resources validate against crds/, and every other object is
    /// a prometheus-operator kind, which <see cref="Rendered_prometheus_operator_objects_validate_against_its_schema"/> checks.
    /// </summary>
    [Theory]
    [MemberData(nameof(Matrix))]
    public void Every_rendered_object_parses_strictly_or_validates_against_its_CRD(string[] sets)
    {
        var docs = HelmRender.Render(sets);
        Assert.NotEmpty(docs);
        var problems = new List<string>();
        foreach (var doc in docs)
        {
            var (apiVersion, kind, name) = HelmRender.Id(doc);
            // One exception: the API's self-signed certificate when neither a Secret nor cert-manager gives one (NOTES warns).
            var selfSignedApiCertificate = kind == "Secret" && name == "fim-managers-api-tls" && doc.Contains("fim.io/self-signed: \"true\"", StringComparison.Ordinal);
            Assert.False(kind == "Secret" && !selfSignedApiCertificate, $"the chart must not render Secrets (found {name})");
            if (StrictValidation.IsBuiltIn(apiVersion, kind))
            {
                try
                {
                    StrictValidation.ParseTyped(doc);
                }
                catch (Exception e)
                {
                    problems.Add($"{kind}/{name}: {e.Message} {e.InnerException?.Message}");
                }
            }
            else if (Crds.Value.TryGetValue(apiVersion + "/" + kind, out var schema))
            {
                problems.AddRange(StrictValidation.ValidateCustomResource(schema, doc).Select(e => $"{kind}/{name}: {e}"));
            }
            else if (!ThirdPartySchemas.IsPrometheusOperator(apiVersion))
            {
                problems.Add($"{apiVersion} {kind}/{name}: neither a built-in kind, nor one of crds/, nor a prometheus-operator kind");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>
    /// The chart's PrometheusRule, ServiceMonitor and PodMonitors against prometheus-operator's own schema (types, enums,
    /// patterns such as durations, required fields; those validators allow unknown fields).
    /// </summary>
    [NeedsPrometheusOperatorSchemasTheory]
    [MemberData(nameof(Matrix))]
    public void Rendered_prometheus_operator_objects_validate_against_its_schema(string[] sets)
    {
        var docs = HelmRender.Render(sets).Where(d => ThirdPartySchemas.IsPrometheusOperator(HelmRender.Id(d).ApiVersion)).ToList();
        if (!sets.Any(s => s.StartsWith("monitoring.", StringComparison.Ordinal)))
        {
            Assert.Contains(docs, d => HelmRender.Id(d).Kind == "PrometheusRule");
            Assert.Contains(docs, d => HelmRender.Id(d).Kind == "ServiceMonitor");
        }
        var results = ThirdPartySchemas.ValidatePrometheusOperator(docs);
        var problems = docs.Zip(results).SelectMany(x => x.Second.Select(e => $"{HelmRender.Id(x.First).Kind}/{HelmRender.Id(x.First).Name}: {e}")).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [NeedsPrometheusOperatorSchemasFact]
    public void The_prometheus_operator_check_can_fail()
    {
        const string rule = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: r\nspec:\n  groups:\n    - name: g\n      rules:\n        - alert: A\n          expr: up == 0\n          for: five minutes\n";
        const string monitor = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: m\nspec:\n  selector: {}\n  endpoints:\n    - port: metrics\n      scheme: ftp\n";
        var results = ThirdPartySchemas.ValidatePrometheusOperator([rule, monitor]);
        Assert.Contains(results[0], e => e.StartsWith("spec.groups[0].rules[0].for:", StringComparison.Ordinal));
        Assert.Contains(results[1], e => e.StartsWith("spec.endpoints[0].scheme:", StringComparison.Ordinal));
    }

    [Fact]
    public void The_strict_checks_can_fail()
    {
        const string deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicaz: 2\n  selector: {}\n  template: {}\n";
        Assert.ThrowsAny<Exception>(() => StrictValidation.ParseTyped(deployment));
        var pool = Crds.Value["fim.io/v1alpha1/FimManagerPool"];
        const string bad = "apiVersion: fim.io/v1alpha1\nkind: FimManagerPool\nmetadata:\n  name: p\nspec:\n  image: x\n  nats:\n    url: http://nats\n  replicas:\n    min: 0\n  service:\n    type: NodePort\n  colour: blue\n";
        var errors = StrictValidation.ValidateCustomResource(pool, bad);
        Assert.Contains(errors, e => e.Contains(".spec.nats.url") && e.Contains("does not match"));
        Assert.Contains(errors, e => e.Contains(".spec.replicas.min") && e.Contains("minimum"));
        Assert.Contains(errors, e => e.Contains(".spec.service.type") && e.Contains("NodePort"));
        Assert.Contains(errors, e => e.Contains(".spec.colour: unknown field"));
    }

    [Theory]
    [InlineData("operator.replicas=0", "/operator/replicas")]
    [InlineData("operator.leaderElection.enabled=false", "/operator/leaderElection/enabled")]
    [InlineData("operator.scope=everywhere", "/operator/scope")]
    [InlineData("nats.mode=embedded", "/nats/mode")]
    [InlineData("nats.external.url=http://nats:4222", "/nats/external/url")]
    [InlineData("agent.fanotfy.enabled=true", "'fanotfy' not allowed")]
    [InlineData("agent.stateHostPath=relative/dir", "/agent/stateHostPath")]
    [InlineData("managerPool.autoscaling.cpuUtilization=150", "/managerPool/autoscaling/cpuUtilization")]
    [InlineData("managerPool.service.type=NodePort", "/managerPool/service/type")]
    [InlineData("nats.bundled.replicas=2", "/nats/bundled/replicas")]
    [InlineData("nats.bundled.authorization.agents={Node_A}", "/nats/bundled/authorization/agents/0")]
    [InlineData("monitoring.thresholds.criticalLevel=16", "/monitoring/thresholds/criticalLevel")]
    [InlineData("operator.resources.limits.memory=lots", "/operator/resources/limits/memory")]
    [InlineData("managerPool.replicas.min=5", "managerPool.replicas.min (5) must not exceed managerPool.replicas.max (3)", "managerPool.replicas.max=3", "store.backend=postgres", "store.postgres.existingSecret=fim-db")]
    [InlineData("store.backend=postgres", "store.backend=postgres needs store.postgres.existingSecret")]
    [InlineData("store.backend=", "/store/backend")]
    [InlineData("managerPool.enrollment.joinTokenUses=0", "/managerPool/enrollment/joinTokenUses")]
    [InlineData("agent.enrollment.enabled=true", "agent.enrollment.enabled needs managerPool.enrollment.enabled")]
    public void Bad_values_are_refused_with_a_message_naming_the_value(string set, string expected, params string[] also)
    {
        var r = HelmRender.Template([set, .. also]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(expected, r.Stderr);
    }

    [Fact]
    public void Chart_CRDs_are_identical_to_the_generated_ones()
    {
        var repo = Directory.GetFiles(Path.Combine(Repo.Root, "crds"), "*.yaml").Select(Path.GetFileName).Order().ToList();
        var chart = Directory.GetFiles(Path.Combine(Repo.Chart, "crds"), "*.yaml").Select(Path.GetFileName).Order().ToList();
        Assert.NotEmpty(repo);
        Assert.Equal(repo, chart);
        foreach (var f in repo)
        {
            Assert.True(
                File.ReadAllBytes(Path.Combine(Repo.Root, "crds", f!)).SequenceEqual(File.ReadAllBytes(Path.Combine(Repo.Chart, "crds", f!))),
                $"charts/fim/crds/{f} differs from crds/{f}: run scripts/sync-chart-files.sh");
        }
    }

    private static T Single<T>(List<string> docs, string kind, string? nameContains = null)
    {
        var doc = docs.Single(d => HelmRender.Id(d).Kind == kind && (nameContains is null || HelmRender.Id(d).Name.Contains(nameContains)));
        return (T)StrictValidation.ParseTyped(doc);
    }

    [Fact]
    public void Operator_gets_NATS_credentials_from_secrets_not_flags()
    {
        var docs = HelmRender.Render("nats.external.authSecretName=nats-auth", "nats.external.tlsSecretName=nats-tls");
        var c = Single<V1Deployment>(docs, "Deployment", "operator").Spec.Template.Spec.Containers[0];
        Assert.Equal("$(NATS_USER)", c.Args[c.Args.IndexOf("--nats-user") + 1]);
        Assert.Equal("/etc/fim/nats-tls/ca.crt", c.Args[c.Args.IndexOf("--nats-ca") + 1]);
        var password = Assert.Single(c.Env, e => e.Name == "FIM_NATS_PASSWORD");
        Assert.Equal(("nats-auth", "password"), (password.ValueFrom.SecretKeyRef.Name, password.ValueFrom.SecretKeyRef.Key));
        Assert.DoesNotContain(c.Args, a => a.Contains("password", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Operator_runs_two_leader_elected_restricted_replicas()
    {
        var docs = HelmRender.Render();
        var d = Single<V1Deployment>(docs, "Deployment", "operator");
        Assert.Equal(2, d.Spec.Replicas);
        var pod = d.Spec.Template.Spec;
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        var c = Assert.Single(pod.Containers);
        Assert.True(c.SecurityContext.ReadOnlyRootFilesystem);
        Assert.False(c.SecurityContext.AllowPrivilegeEscalation);
        Assert.Equal(["ALL"], c.SecurityContext.Capabilities.Drop);
        Assert.Null(c.SecurityContext.Capabilities.Add);
        Assert.NotNull(c.LivenessProbe?.HttpGet);
        Assert.NotNull(c.ReadinessProbe?.HttpGet);
        Assert.NotNull(c.Resources.Limits["memory"]);
        Assert.NotNull(c.Resources.Requests["cpu"]);
        // docs/operator.md: leader election is on unless --no-leader-election; the Lease goes to $POD_NAMESPACE.
        Assert.Equal("run", c.Args[0]);
        Assert.DoesNotContain("--no-leader-election", c.Args);
        Assert.Contains(c.Env, e => e.Name == "POD_NAMESPACE" && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace");
        Assert.Equal("8080", c.Args[c.Args.IndexOf("--metrics-port") + 1]);
        Assert.Equal("nats://nats.nats.svc:4222", c.Args[c.Args.IndexOf("--nats-url") + 1]);
        Assert.Equal("metrics", c.LivenessProbe.HttpGet.Port.Value);
        Assert.Equal(8080, c.Ports.Single(p => p.Name == "metrics").ContainerPort);
        Assert.Equal("rel-fim-operator", pod.ServiceAccountName);
        Assert.Contains(docs, x => HelmRender.Id(x) is { Kind: "Role", Name: "rel-fim-operator-leader-election" });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Agent_daemonset_reads_the_host_with_minimal_capabilities(bool fanotify)
    {
        var docs = HelmRender.Render($"agent.fanotify.enabled={fanotify.ToString().ToLowerInvariant()}");
        var ds = Single<V1DaemonSet>(docs, "DaemonSet");
        var pod = ds.Spec.Template.Spec;
        var c = Assert.Single(pod.Containers);
        Assert.False(c.SecurityContext.Privileged);
        Assert.False(c.SecurityContext.AllowPrivilegeEscalation);
        Assert.True(c.SecurityContext.ReadOnlyRootFilesystem);
        Assert.Equal(["ALL"], c.SecurityContext.Capabilities.Drop);
        Assert.Equal(fanotify ? ["DAC_READ_SEARCH", "SYS_ADMIN"] : ["DAC_READ_SEARCH"], c.SecurityContext.Capabilities.Add);
        Assert.Contains(pod.Tolerations, t => t.OperatorProperty == "Exists" && t.Key is null && t.Effect is null);
        Assert.False(pod.HostNetwork ?? false);
        Assert.False(pod.HostPID ?? false);
        Assert.False(pod.AutomountServiceAccountToken);
        Assert.Equal("fim-agent", pod.PriorityClassName);
        Assert.Contains(docs, d => HelmRender.Id(d).Kind == "PriorityClass" && HelmRender.Id(d).Name == "fim-agent");
        Assert.NotNull(c.Resources.Limits["memory"]);

        var host = Assert.Single(c.VolumeMounts, m => m.MountPath == "/host");
        Assert.True(host.ReadOnlyProperty);
        Assert.Equal("/", pod.Volumes.Single(v => v.Name == host.Name).HostPath.Path);
        var state = Assert.Single(c.VolumeMounts, m => m.MountPath == "/var/lib/fim-agent");
        Assert.Equal("/var/lib/fim-agent", pod.Volumes.Single(v => v.Name == state.Name).HostPath.Path);
        var key = Assert.Single(c.VolumeMounts, m => m.MountPath == "/etc/fim-agent/key");
        Assert.True(key.ReadOnlyProperty);
        Assert.Equal("fim-agent-key", pod.Volumes.Single(v => v.Name == key.Name).Secret.SecretName);
        Assert.False(key.MountPath.StartsWith(state.MountPath, StringComparison.Ordinal));

        var cm = Single<V1ConfigMap>(docs, "ConfigMap", "agent");
        var config = HelmRender.Parse(cm.Data["agent.yaml"]);
        Assert.Equal("/var/lib/fim-agent", HelmRender.Str(config, "stateDir"));
        Assert.Equal("/etc/fim-agent/key/hmac.key", HelmRender.Str(config, "keyFile"));
        // The agent reads the node through the read-only /host mount, and policies name host paths.
        Assert.Equal(host.MountPath, HelmRender.Str(config, "hostRoot"));
        Assert.Equal(["nats", "stateDir", "hostRoot", "keyFile", "heartbeatInterval", "outboxMaxEvents", "publishMaxInFlight", "metricsListen", "labels"],
            config.Children.Keys.Select(k => k.ToString()));
        Assert.Equal("linux", pod.NodeSelector["kubernetes.io/os"]);
    }

    [Fact]
    public void Agent_off_renders_no_agent_objects()
    {
        var docs = HelmRender.Render("agent.enabled=false");
        Assert.DoesNotContain(docs, d => HelmRender.Id(d).Kind is "DaemonSet" or "PriorityClass");
        Assert.DoesNotContain(docs, d => HelmRender.Id(d).Name.EndsWith("-agent", StringComparison.Ordinal));
    }

    [Fact]
    public void The_default_pool_is_one_manager_on_SQLite_without_an_autoscaler()
    {
        var docs = HelmRender.Render();
        var json = StrictValidation.ToJson(HelmRender.Parse(docs.Single(d => HelmRender.Id(d).Kind == "FimManagerPool")))!;
        var spec = json["spec"]!.AsObject();
        Assert.NotNull(spec["store"]!["sqlite"]);
        Assert.False(spec["store"]!.AsObject().ContainsKey("postgres"));
        Assert.Equal(1, (long)spec["replicas"]!["min"]!);
        Assert.Equal(1, (long)spec["replicas"]!["max"]!);
        Assert.False(spec.ContainsKey("autoscaling"));
        Assert.DoesNotContain(docs, d => HelmRender.Id(d).Kind is "HorizontalPodAutoscaler" or "ScaledObject");
        Assert.DoesNotContain(docs, d => HelmRender.Id(d).Name.EndsWith("-prometheus-adapter", StringComparison.Ordinal));

        // Asking for autoscaling without PostgreSQL still renders one manager.
        var asked = StrictValidation.ToJson(HelmRender.Parse(HelmRender.Render("managerPool.replicas.min=3", "managerPool.autoscaling.provider=keda")
            .Single(d => HelmRender.Id(d).Kind == "FimManagerPool")))!["spec"]!.AsObject();
        Assert.Equal(1, (long)asked["replicas"]!["max"]!);
        Assert.False(asked.ContainsKey("autoscaling"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_PostgreSQL_pool_autoscales_only_when_asked(bool hpa)
    {
        var docs = HelmRender.Render("store.backend=postgres", "store.postgres.existingSecret=fim-db", $"managerPool.autoscaling.enabled={hpa.ToString().ToLowerInvariant()}");
        var pool = HelmRender.Parse(docs.Single(d => HelmRender.Id(d).Kind == "FimManagerPool"));
        var json = StrictValidation.ToJson(pool)!;
        Assert.Equal(hpa, json["spec"]!.AsObject().ContainsKey("autoscaling"));
        Assert.Equal(2, (long)json["spec"]!["replicas"]!["min"]!);
        Assert.Equal(hpa ? 10 : 2, (long)json["spec"]!["replicas"]!["max"]!);
    }

    [Fact]
    public void Bundled_NATS_is_a_three_node_JetStream_cluster_with_per_agent_permissions()
    {
        var docs = HelmRender.Render("nats.mode=bundled", "nats.bundled.authorization.agents={node-a,node-b}");
        var sts = Single<V1StatefulSet>(docs, "StatefulSet");
        Assert.Equal(3, sts.Spec.Replicas);
        var pvc = Assert.Single(sts.Spec.VolumeClaimTemplates);
        Assert.Equal("10Gi", pvc.Spec.Resources.Requests["storage"].ToString());
        Assert.Equal("data", sts.Spec.Template.Metadata.Annotations["backup.velero.io/backup-volumes"]);
        var cm = Single<V1ConfigMap>(docs, "ConfigMap", "nats-config");
        var conf = cm.Data["nats.conf"];
        Assert.Contains("jetstream {", conf);
        Assert.Contains("verify_and_map: true", conf);
        Assert.Equal(3, conf.Split('\n').Count(l => l.Contains(":6222") && l.Contains("nats://")));
        var auth = cm.Data["auth.conf"];
        var nodeA = UserBlock(auth, "node-a.agents.fim");
        Assert.Contains("\"fim.events.node-a\"", nodeA);
        Assert.Contains("\"$KV.fim-agents.node-a\"", nodeA);
        Assert.Contains("subscribe: { allow: [ \"_INBOX.node-a.>\", \"fim.agent.node-a.cmd\", \"fim.agent.node-a.rebaseline\" ] }", nodeA);
        Assert.DoesNotContain(Subjects.AllEvents, nodeA);
        Assert.DoesNotContain("node-b", nodeA);
        var op = UserBlock(auth, "operator.fim");
        Assert.Contains("\"$KV.fim-policies.>\"", op);
        Assert.DoesNotContain("$JS.API.>", op);
        Assert.DoesNotContain("fim.events", op);
        // Re-baseline requests to agents (issue 18): the operator's, not the managers'.
        Assert.Contains("\"fim.agent.*.rebaseline\"", op);
        // clients use the bundled service over TLS
        var pool = docs.Single(d => HelmRender.Id(d).Kind == "FimManagerPool");
        Assert.Contains("tls://rel-fim-nats.fim.svc:4222", pool);
    }

    [Fact]
    public void Chart_NATS_permissions_are_the_ones_the_agent_generates_from_the_shared_names()
    {
        var docs = HelmRender.Render("nats.mode=bundled", "nats.bundled.authorization.agents={node-a}", "nats.bundled.authorization.managers={manager.fim}");
        var auth = Single<V1ConfigMap>(docs, "ConfigMap", "nats-config").Data["auth.conf"];
        var agent = UserBlock(auth, "node-a.agents.fim");
        Assert.Equal(Fim.Agent.Connected.NatsAuthorization.AgentPublish("node-a"), AllowList(agent, "publish"));
        Assert.Equal(Fim.Agent.Connected.NatsAuthorization.AgentSubscribe("node-a"), AllowList(agent, "subscribe"));
        var manager = UserBlock(auth, "manager.fim");
        Assert.Equal(Fim.Agent.Connected.NatsAuthorization.ManagerPublish, AllowList(manager, "publish"));
        Assert.Equal(Fim.Agent.Connected.NatsAuthorization.ManagerSubscribe, AllowList(manager, "subscribe"));
    }

    /// <summary>The quoted subjects of "&lt;kind&gt;: { allow: [ ... ] }" in a user's entry.</summary>
    private static string[] AllowList(string block, string kind)
    {
        var start = block.IndexOf(kind + ": { allow: [", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no {kind} allow list in\n{block}");
        var end = block.IndexOf(']', start + kind.Length + 12);
        return [.. System.Text.RegularExpressions.Regex.Matches(block[start..end], "\"([^\"]+)\"").Select(m => m.Groups[1].Value)];
    }

    /// <summary>The text of one user's entry in a rendered authorization block.</summary>
    private static string UserBlock(string auth, string user)
    {
        var start = auth.IndexOf($"{{ user: \"{user}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no user {user} in\n{auth}");
        var next = auth.IndexOf("{ user: ", start + 1, StringComparison.Ordinal);
        return next < 0 ? auth[start..] : auth[start..next];
    }

    [Fact]
    public void Chart_NATS_authorization_template_is_the_connected_mode_one()
    {
        var source = Path.Combine(Repo.Root, "deploy", "nats", "authorization.conf.tmpl");
        var copy = Path.Combine(Repo.Chart, "files", "nats", "authorization.conf.tmpl");
        Assert.True(File.Exists(copy));
        if (File.Exists(source))
        {
            Assert.True(File.ReadAllText(source) == File.ReadAllText(copy), "charts/fim/files/nats/authorization.conf.tmpl differs from deploy/nats/: run scripts/sync-chart-files.sh");
        }
    }

    [Fact]
    public void NetworkPolicies_deny_by_default_and_let_agents_reach_only_NATS()
    {
        var docs = HelmRender.Render("nats.mode=bundled");
        var policies = docs.Where(d => HelmRender.Id(d).Kind == "NetworkPolicy").Select(d => (V1NetworkPolicy)StrictValidation.ParseTyped(d)).ToList();
        var deny = Assert.Single(policies, p => p.Metadata.Name.EndsWith("default-deny", StringComparison.Ordinal));
        Assert.Empty(deny.Spec.PodSelector.MatchLabels ?? new Dictionary<string, string>());
        Assert.Equal(["Ingress", "Egress"], deny.Spec.PolicyTypes);
        Assert.Null(deny.Spec.Ingress);
        Assert.Null(deny.Spec.Egress);

        var agent = Assert.Single(policies, p => p.Metadata.Name.EndsWith("-agent", StringComparison.Ordinal));
        Assert.Equal(2, agent.Spec.Egress.Count);
        var toNats = agent.Spec.Egress[0];
        Assert.Equal("nats", Assert.Single(toNats.To).PodSelector.MatchLabels["app.kubernetes.io/component"]);
        Assert.Equal("4222", Assert.Single(toNats.Ports).Port.ToString());
        Assert.All(agent.Spec.Egress[1].Ports, p => Assert.Equal("53", p.Port.ToString()));

        var manager = Assert.Single(policies, p => p.Metadata.Name.EndsWith("-manager", StringComparison.Ordinal));
        Assert.Contains(manager.Spec.Ingress, r => r.Ports.Any(p => p.Port.ToString() == "8081"));
        var op = Assert.Single(policies, p => p.Metadata.Name.EndsWith("-operator", StringComparison.Ordinal));
        Assert.Contains(op.Spec.Egress, r => r.Ports.Any(p => p.Port.ToString() == "443"));
        Assert.Contains(op.Spec.Egress, r => r.Ports.Any(p => p.Port.ToString() == "4222"));
    }

    /// <summary>The chart's sample and the operator's examples once they are in the tree.</summary>
    public static TheoryData<string, string> ShippedCustomResources()
    {
        var data = new TheoryData<string, string>
        {
            { "charts/fim/examples/fimpolicy-pci.yaml", "fim.io/v1alpha1/FimPolicy" },
        };
        foreach (var (file, key) in new[] { ("examples/fimpolicy-pci.yaml", "fim.io/v1alpha1/FimPolicy"), ("examples/fimmanagerpool.yaml", "fim.io/v1alpha1/FimManagerPool") })
        {
            if (File.Exists(Path.Combine(Repo.Root, file)))
            {
                data.Add(file, key);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ShippedCustomResources))]
    public void Shipped_custom_resources_validate_against_their_CRDs(string file, string key) =>
        AssertValid(file, key, Crds.Value[key]);

    [NeedsVeleroCrdsFact]
    public void Velero_schedule_validates_against_the_Velero_CRD()
    {
        const string key = "velero.io/v1/Schedule";
        AssertValid("velero/schedule.yaml", key, StrictValidation.LoadCrds([ThirdPartySchemas.VeleroScheduleCrd])[key]);
    }

    private static void AssertValid(string file, string key, V1JSONSchemaProps schema)
    {
        var docs = HelmRender.SplitDocuments(File.ReadAllText(Path.Combine(Repo.Root, file)));
        Assert.NotEmpty(docs);
        foreach (var doc in docs)
        {
            var (apiVersion, kind, _) = HelmRender.Id(doc);
            Assert.Equal(key, apiVersion + "/" + kind);
            var errors = StrictValidation.ValidateCustomResource(schema, doc);
            Assert.True(errors.Count == 0, string.Join("\n", errors));
        }
    }
}

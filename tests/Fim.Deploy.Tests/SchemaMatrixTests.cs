using Fim.Testing;
using Fim.Testing.KubeApi;

namespace Fim.Deploy.Tests;

/// <summary>
/// Every object the chart renders, under a matrix of values, passes Kubernetes schema validation: built-in kinds and
/// prometheus-operator's kinds against the npm kubernetes-models validators (strict: undeclared fields are errors), the
/// chart's own custom resources against their CRD. A deliberately invalid object is refused naming its field, by the
/// validators and by the API double (which the install tests and the operator's tests write through).
/// </summary>
public sealed class SchemaMatrixTests
{
    public static TheoryData<string, string[]> Matrix => new()
    {
        { "defaults", [] },
        { "TLS on", ["managerPool.tlsSecretName=fim-manager-tls", "nats.external.tlsSecretName=fim-nats-client", "nats.external.authSecretName=fim-nats-auth", "nats.external.url=tls://nats.nats.svc:4222"] },
        { "KEDA mode", ["store.backend=postgres", "store.postgres.existingSecret=fim-db", "managerPool.autoscaling.provider=keda", "nats.mode=bundled"] },
        { "prometheus-adapter mode", ["store.backend=postgres", "store.postgres.existingSecret=fim-db", "managerPool.autoscaling.provider=prometheus-adapter", "autoscaling.prometheusAdapter.rules.namespace=monitoring"] },
        { "external NATS", ["nats.mode=external", "nats.external.url=nats://10.1.2.3:4222", "nats.external.cidrs={10.1.0.0/16}"] },
        { "bundled NATS", ["nats.mode=bundled", "agent.fanotify.enabled=true", "nats.bundled.storage.storageClassName=gp3"] },
        { "namespace scope, no policies", ["operator.scope=namespace", "networkPolicies.enabled=false", "operator.rbac.ownerReferencesPermissionEnforcement=true"] },
        { "fixed size", ["managerPool.autoscaling.enabled=false", "managerPool.service.type=ClusterIP"] },
        { "no monitoring", ["monitoring.prometheusRule.enabled=false", "monitoring.serviceMonitor.enabled=false", "monitoring.grafanaDashboard.enabled=false", "agent.priorityClass.create=false"] },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public void Every_rendered_object_passes_its_schema(string name, string[] sets)
    {
        var docs = HelmRender.Render(sets);
        var crds = StrictValidation.LoadCrds(Directory.GetFiles(Path.Combine(Repo.Chart, "crds"), "*.yaml"));
        var ours = docs.Where(d => HelmRender.Id(d).ApiVersion.StartsWith("fim.io/", StringComparison.Ordinal)).ToList();
        var others = docs.Except(ours).ToList();

        var results = ThirdPartySchemas.ValidateModels(others);
        var failures = others.Zip(results).Where(x => x.Second.Count > 0)
            .Select(x => $"{HelmRender.Id(x.First)}: {string.Join("; ", x.Second)}").ToList();
        foreach (var doc in ours)
        {
            var (apiVersion, kind, _) = HelmRender.Id(doc);
            var errors = StrictValidation.ValidateCustomResource(crds[apiVersion + "/" + kind], doc);
            if (!ProviderDeclared(crds))
            {
                // spec.autoscaling.provider comes with the operator's KEDA support (its CRD is generated from its types).
                errors.RemoveAll(e => e == ".spec.autoscaling.provider: unknown field");
            }

            failures.AddRange(errors.Select(e => $"{HelmRender.Id(doc)}: {e}"));
        }

        Assert.True(failures.Count == 0, $"{name}: {failures.Count} invalid:\n" + string.Join('\n', failures));
        Assert.True(others.Count > 10, $"{name}: only {others.Count} objects rendered");
    }

    private static bool ProviderDeclared(Dictionary<string, k8s.Models.V1JSONSchemaProps> crds) =>
        crds.TryGetValue("fim.io/v1alpha1/FimManagerPool", out var s) && s.Properties["spec"].Properties.TryGetValue("autoscaling", out var a)
        && a.Properties?.ContainsKey("provider") == true;

    [Fact]
    public void A_deliberately_invalid_rendered_object_is_refused_with_its_field_path()
    {
        var deployment = HelmRender.Render().Single(d => HelmRender.Id(d).Kind == "Deployment");
        var badType = deployment.Replace("containerPort: 8080", "containerPort: \"eighty\"", StringComparison.Ordinal);
        var unknown = deployment.Replace("      containers:", "      containerz: []\n      containers:", StringComparison.Ordinal);
        Assert.NotEqual(deployment, badType);
        Assert.NotEqual(deployment, unknown);

        var results = ThirdPartySchemas.ValidateModels([deployment, badType, unknown]);

        Assert.Empty(results[0]);
        Assert.Contains(results[1], e => e.StartsWith("spec.template.spec.containers[0].ports[0].containerPort: must be of type integer", StringComparison.Ordinal));
        Assert.Contains("spec.template.spec.containerz: unknown field", results[2]);
    }

    [Fact]
    public async Task The_API_double_refuses_the_chart_Deployment_with_an_out_of_range_port_naming_the_field()
    {
        await using var api = new KubeApiServer(new KubeApiServerOptions { SchemaValidation = SchemaValidation.Required });
        await api.StartAsync();
        using var kubectl = Kubectl.For(api.WriteKubeconfig);
        await kubectl.OkAsync("create", "namespace", HelmRender.Namespace);
        var deployment = HelmRender.Render().Single(d => HelmRender.Id(d).Kind == "Deployment");

        var refused = await kubectl.RunAsync("apply", "-f", kubectl.WriteFile("bad.yaml", deployment.Replace("containerPort: 8080", "containerPort: 99999", StringComparison.Ordinal)));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 99999: must be between 1 and 65535, inclusive", refused.Stderr);

        await kubectl.OkAsync("apply", "-f", kubectl.WriteFile("good.yaml", deployment));
    }
}

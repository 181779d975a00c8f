using Fim.Testing;
using Fim.Testing.KubeApi;

namespace Fim.Deploy.Tests;

/// <summary>
/// The first half of the install rehearsal (scripts/install-rehearsal.sh): the chart rendered by the real helm is
/// applied by the real kubectl to the Kubernetes API double, CRDs first, then the sample policy. The operator half
/// needs the operator binary and is run by the lead after merging it.
/// </summary>
public sealed class KubectlApplyTests
{
    [Fact]
    public async Task Rendered_chart_and_sample_policy_apply_to_an_API_server()
    {
        await using var api = new KubeApiServer(new KubeApiServerOptions { Port = 0, SchemaValidation = SchemaValidation.Required });
        await api.StartAsync();
        using var kubectl = Kubectl.For(api.WriteKubeconfig);

        await kubectl.OkAsync("create", "namespace", HelmRender.Namespace);
        await kubectl.OkAsync("apply", "-f", Path.Combine(Repo.Chart, "crds"));
        // prometheus-operator's kinds get stand-in CRDs; ChartTests checks their content against its real schema.
        await kubectl.OkAsync("apply", "-f", Path.Combine(Repo.Root, "tests", "Fim.Deploy.Tests", "Fixtures", "prometheus-operator-crds.stand-in.yaml"));
        await kubectl.OkAsync("wait", "--for=condition=Established", "crd/fimpolicies.fim.io", "crd/fimmanagerpools.fim.io", "--timeout=2m");

        var rendered = HelmRender.Template().EnsureSuccess();
        var applied = await kubectl.OkAsync("apply", "--validate=strict", "-f", kubectl.WriteFile("rendered.yaml", rendered.Stdout));
        var expectedObjects = HelmRender.SplitDocuments(rendered.Stdout).Count;
        Assert.Equal(expectedObjects, applied.Split('\n').Count(l => l.EndsWith(" created", StringComparison.Ordinal)));

        await kubectl.OkAsync("apply", "--validate=strict", "-f", Path.Combine(Repo.Chart, "examples", "fimpolicy-pci.yaml"));
        var policies = await kubectl.OkAsync("-n", HelmRender.Namespace, "get", "fimpolicies");
        Assert.Matches(@"NAME\s+ACCEPTED\s+REVISION\s+TARGETED\s+APPLIED\s+AGE", policies);
        Assert.Contains("pci-critical-system-files", policies);
        var pools = await kubectl.OkAsync("-n", HelmRender.Namespace, "get", "fimmanagerpools", "-o", "jsonpath={.items[*].spec.replicas.max}");
        Assert.Equal("1", pools); // the default store is SQLite: one manager

        // An invalid policy is refused by the CRD schema, naming the field.
        var bad = kubectl.WriteFile("bad.yaml", "apiVersion: fim.io/v1alpha1\nkind: FimPolicy\nmetadata:\n  name: bad\n  namespace: fim\nspec:\n  paths:\n    - path: etc\n  severity: 20\n");
        var refused = await kubectl.RunAsync("apply", "-f", bad);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("spec.severity", refused.Stderr);
        Assert.Contains("spec.paths[0].path", refused.Stderr);
    }
}

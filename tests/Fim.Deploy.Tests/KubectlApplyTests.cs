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
        await using var api = new KubeApiServer(new KubeApiServerOptions { Port = 0 });
        await api.StartAsync();
        var dir = Directory.CreateTempSubdirectory("fim-apply-");
        try
        {
            var kubeconfig = api.WriteKubeconfig(Path.Combine(dir.FullName, "kubeconfig"));
            Repo.Result K(params string[] args)
            {
                var r = Repo.Run(Repo.Kubectl, ["--kubeconfig", kubeconfig, .. args], TimeSpan.FromSeconds(60));
                Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r.All}");
                return r;
            }

            K("create", "namespace", HelmRender.Namespace);
            K("apply", "-f", Path.Combine(Repo.Chart, "crds"));
            // prometheus-operator's kinds get stand-in CRDs; ChartTests checks their content against its real schema.
            K("apply", "-f", Path.Combine(Repo.Root, "tests", "Fim.Deploy.Tests", "Fixtures", "prometheus-operator-crds.stand-in.yaml"));
            K("wait", "--for=condition=Established", "crd/fimpolicies.fim.io", "crd/fimmanagerpools.fim.io", "--timeout=30s");

            // The double has no PriorityClass; everything else the chart renders is applied as is.
            var rendered = HelmRender.Template("agent.priorityClass.create=false");
            Assert.True(rendered.ExitCode == 0, rendered.StdErr);
            var file = Path.Combine(dir.FullName, "rendered.yaml");
            File.WriteAllText(file, rendered.StdOut);
            var applied = K("apply", "--validate=strict", "-f", file);
            var expectedObjects = HelmRender.SplitDocuments(rendered.StdOut).Count;
            Assert.Equal(expectedObjects, applied.StdOut.Split('\n').Count(l => l.EndsWith(" created", StringComparison.Ordinal)));

            K("apply", "--validate=strict", "-f", Path.Combine(Repo.Chart, "examples", "fimpolicy-pci.yaml"));
            var policies = K("-n", HelmRender.Namespace, "get", "fimpolicies").StdOut;
            Assert.Matches(@"NAME\s+ACCEPTED\s+REVISION\s+TARGETED\s+APPLIED\s+AGE", policies);
            Assert.Contains("pci-critical-system-files", policies);
            var pools = K("-n", HelmRender.Namespace, "get", "fimmanagerpools", "-o", "jsonpath={.items[*].spec.replicas.max}").StdOut;
            Assert.Equal("10", pools);

            // An invalid policy is refused by the CRD schema, naming the field.
            var bad = Path.Combine(dir.FullName, "bad.yaml");
            File.WriteAllText(bad, "apiVersion: fim.io/v1alpha1\nkind: FimPolicy\nmetadata:\n  name: bad\n  namespace: fim\nspec:\n  paths:\n    - path: etc\n  severity: 20\n");
            var refused = Repo.Run(Repo.Kubectl, ["--kubeconfig", kubeconfig, "apply", "-f", bad], TimeSpan.FromSeconds(60));
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("spec.severity", refused.StdErr);
            Assert.Contains("spec.paths[0].path", refused.StdErr);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

using Fim.Testing;
using Fim.Testing.KubeApi;

namespace Fim.Deploy.Tests;

/// <summary>
/// `helm install`, `helm upgrade` and `helm uninstall` of charts/fim with its default values, by the real helm 4,
/// against the Kubernetes API double with schema validation on: each exits 0 and leaves the objects it should.
/// </summary>
public sealed class HelmLifecycleTests
{
    [Fact]
    public async Task Install_upgrade_and_uninstall_with_default_values()
    {
        await using var api = new KubeApiServer(new KubeApiServerOptions { SchemaValidation = SchemaValidation.Required });
        await api.StartAsync();
        using var kubectl = Kubectl.For(api.WriteKubeconfig);
        // The default values render prometheus-operator's kinds: a cluster with the operator has its CRDs.
        await kubectl.OkAsync("apply", "-f", Path.Combine(Repo.Root, "tests", "Fim.Deploy.Tests", "Fixtures", "prometheus-operator-crds.stand-in.yaml"));

        var rendered = HelmRender.Render().Select(HelmRender.Id).ToList();
        Assert.Contains(rendered, o => o.Kind == "PriorityClass");
        var names = rendered.Select(ResourceName).ToArray();

        var install = await kubectl.HelmAsync("install", "rel", Repo.Chart, "--namespace", HelmRender.Namespace, "--create-namespace");
        Assert.True(install.ExitCode == 0, install.ToString());
        Assert.Contains("STATUS: deployed", install.Stdout);
        var present = Lines(await kubectl.OkAsync(["-n", HelmRender.Namespace, "get", .. names, "-o", "name"]));
        Assert.Equal(names.Length, present.Count);
        Assert.Contains("customresourcedefinition.apiextensions.k8s.io/fimmanagerpools.fim.io",
            Lines(await kubectl.OkAsync("get", "crd", "-o", "name")));
        Assert.Equal("1", await kubectl.OkAsync("-n", HelmRender.Namespace, "get", "fimmanagerpool", "fim-managers", "-o", "jsonpath={.spec.replicas.max}"));

        // Scaling out needs PostgreSQL: the upgrade switches the store and raises the ceiling.
        var upgrade = await kubectl.HelmAsync("upgrade", "rel", Repo.Chart, "--namespace", HelmRender.Namespace,
            "--set", "store.backend=postgres", "--set", "store.postgres.existingSecret=fim-db", "--set", "managerPool.replicas.max=7");
        Assert.True(upgrade.ExitCode == 0, upgrade.ToString());
        Assert.Contains("REVISION: 2", upgrade.Stdout);
        Assert.Equal("7", await kubectl.OkAsync("-n", HelmRender.Namespace, "get", "fimmanagerpool", "fim-managers", "-o", "jsonpath={.spec.replicas.max}"));
        Assert.Equal(names.Length, Lines(await kubectl.OkAsync(["-n", HelmRender.Namespace, "get", .. names, "-o", "name"])).Count);

        var uninstall = await kubectl.HelmAsync("uninstall", "rel", "--namespace", HelmRender.Namespace);
        Assert.True(uninstall.ExitCode == 0, uninstall.ToString());
        Assert.Empty(Lines(await kubectl.OkAsync(["-n", HelmRender.Namespace, "get", .. names, "-o", "name", "--ignore-not-found"])));
        Assert.Empty(Lines(await kubectl.OkAsync("-n", HelmRender.Namespace, "get", "secrets", "-l", "owner=helm", "-o", "name")));
        // helm keeps the CRDs of crds/ (and so every FimPolicy) on uninstall, by design.
        Assert.Contains("customresourcedefinition.apiextensions.k8s.io/fimpolicies.fim.io", Lines(await kubectl.OkAsync("get", "crd", "-o", "name")));
    }

    /// <summary>kind.group/name as kubectl takes it.</summary>
    private static string ResourceName((string ApiVersion, string Kind, string Name) o)
    {
        var slash = o.ApiVersion.IndexOf('/');
        var kind = o.Kind.ToLowerInvariant();
        return (slash < 0 ? kind : kind + "." + o.ApiVersion[..slash]) + "/" + o.Name;
    }

    private static List<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}

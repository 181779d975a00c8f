using System.Net;
using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Tests.Support;
using k8s;
using k8s.Models;
using static Fim.Testing.KubeApi.Tests.Support.TestServer;

namespace Fim.Testing.KubeApi.Tests;

/// <summary>Server-side apply: ownership, removal of fields no longer applied, conflicts, force.</summary>
public sealed class ServerSideApplyTests
{
    private static Task<V1Deployment> Apply(Kubernetes client, string manager, string json, bool force = false) =>
        client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(json, V1Patch.PatchType.ApplyPatch), "web", "default", fieldManager: manager, force: force);

    private const string Full = """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web","tier":"front"}},
         "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
         "spec":{"containers":[{"name":"main","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},{"name":"sidecar","image":"busybox"}]}}}}
        """;

    private const string Reduced = """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
         "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
         "spec":{"containers":[{"name":"main","image":"nginx:1","env":[{"name":"A","value":"1"}]}]}}}}
        """;

    [Fact]
    public async Task Fields_a_manager_stops_applying_are_removed()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await Apply(client, "operator", Full);
        var d = await Apply(client, "operator", Reduced);
        Assert.False(d.Metadata.Labels.ContainsKey("tier"));
        var main = Assert.Single(d.Spec.Template.Spec.Containers);
        Assert.Equal("main", main.Name);
        Assert.Equal(["A"], main.Env.Select(e => e.Name));
        Assert.Equal(2, d.Spec.Replicas);
    }

    [Fact]
    public async Task Another_manager_conflicts_unless_it_forces_and_then_owns_the_field()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await Apply(client, "operator", Full);

        const string scaleTo5 = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":5}}""";
        var (code, status) = await FailureOf(() => Apply(client, "autoscaler", scaleTo5));
        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Equal("Apply failed with 1 conflict: conflict with \"operator\" using apps/v1: .spec.replicas", (string?)status["message"]);
        Assert.Equal(".spec.replicas", (string?)status["details"]!["causes"]![0]!["field"]);

        // Same value: no conflict, shared ownership.
        await Apply(client, "autoscaler", scaleTo5.Replace("5", "2", StringComparison.Ordinal));

        var forced = await Apply(client, "autoscaler", scaleTo5, force: true);
        Assert.Equal(5, forced.Spec.Replicas);

        // The operator no longer owns replicas: leaving it out does not remove it, and setting it would conflict.
        var withoutReplicas = Full.Replace("\"replicas\":2,", "", StringComparison.Ordinal);
        Assert.Equal(5, (await Apply(client, "operator", withoutReplicas)).Spec.Replicas);
        (code, _) = await FailureOf(() => Apply(client, "operator", Full));
        Assert.Equal(HttpStatusCode.Conflict, code);
    }

    [Fact]
    public async Task A_plain_update_takes_fields_away_from_the_apply_manager()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await Apply(client, "operator", Full);
        await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"metadata":{"labels":{"tier":"back"}}}""", V1Patch.PatchType.MergePatch), "web", "default");
        var d = await Apply(client, "operator", Reduced);
        Assert.Equal("back", d.Metadata.Labels["tier"]);
        Assert.Single(d.Spec.Template.Spec.Containers);
    }

    [Fact]
    public async Task Custom_resource_list_maps_and_sets_are_owned_per_entry()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await SampleCrd.RegisterAsync(client);

        Task<object> ApplyPolicy(string manager, string spec) => client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch($$"""{"apiVersion":"fim.io/v1alpha1","kind":"FimPolicy","metadata":{"name":"p"},"spec":{{spec}}}""", V1Patch.PatchType.ApplyPatch),
            SampleCrd.Group, SampleCrd.Version, "default", SampleCrd.Plural, "p", fieldManager: manager);

        await ApplyPolicy("team-a", """{"paths":[{"path":"/etc"}],"exclusions":[{"name":"logs","glob":"*.log"}],"tags":["pci"]}""");
        await ApplyPolicy("team-b", """{"exclusions":[{"name":"tmp","glob":"/tmp/*"}],"tags":["hipaa"]}""");
        var both = JsonNode.Parse((await ApplyPolicy("team-a", """{"paths":[{"path":"/etc"}],"exclusions":[{"name":"logs","glob":"*.log"}],"tags":["pci"]}""")).ToString()!)!;
        Assert.Equal(["logs", "tmp"], both["spec"]!["exclusions"]!.AsArray().Select(e => (string?)e!["name"]));
        Assert.Equal(["pci", "hipaa"], both["spec"]!["tags"]!.AsArray().Select(t => (string?)t));

        var afterRemoval = JsonNode.Parse((await ApplyPolicy("team-a", """{"paths":[{"path":"/etc"}]}""")).ToString()!)!;
        Assert.Equal(["tmp"], afterRemoval["spec"]!["exclusions"]!.AsArray().Select(e => (string?)e!["name"]));
        Assert.Equal(["hipaa"], afterRemoval["spec"]!["tags"]!.AsArray().Select(t => (string?)t));
        Assert.Equal("medium", (string?)afterRemoval["spec"]!["severity"]); // defaults stay
    }
}

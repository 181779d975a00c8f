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

    [Fact]
    public async Task ManagedFields_name_each_manager_with_the_fields_it_owns()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await Apply(client, "operator", Full);
        var d = await client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""{"metadata":{"annotations":{"fim.io/rebaseline":"failed"}},"spec":{"replicas":3}}""", V1Patch.PatchType.MergePatch),
            "web", "default", fieldManager: "kubectl-annotate");

        var apply = Assert.Single(d.Metadata.ManagedFields, e => e.Operation == "Apply");
        Assert.Equal(("operator", "apps/v1", "FieldsV1"), (apply.Manager, apply.ApiVersion, apply.FieldsType));
        var applied = JsonNode.Parse(apply.FieldsV1.ToString()!)!;
        Assert.NotNull(applied["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"main\"}"]!["f:env"]!["k:{\"name\":\"A\"}"]!["f:value"]);
        Assert.Null(applied["f:spec"]!["f:replicas"]); // taken by the update that changed it

        var update = Assert.Single(d.Metadata.ManagedFields, e => e.Operation == "Update");
        Assert.Equal("kubectl-annotate", update.Manager);
        Assert.Equal("""{"f:metadata":{"f:annotations":{"f:fim.io/rebaseline":{}}},"f:spec":{"f:replicas":{}}}""", update.FieldsV1.ToString());
        Assert.True(update.Time > DateTime.UtcNow.AddMinutes(-5));

        // Without ?fieldManager the manager is the user agent's product, like the real server infers it.
        var read = await client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"spec":{"replicas":4}}""", V1Patch.PatchType.MergePatch), "web", "default");
        read = await client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        var entries = read.Metadata.ManagedFields.Select(e => $"{e.Operation} {e.Manager} {e.FieldsV1}").ToList();
        Assert.Contains(entries, e => e.StartsWith("Update kubectl-annotate {\"f:metadata\":{\"f:annotations\":{\"f:fim.io/rebaseline\":{}}}}", StringComparison.Ordinal));
        Assert.DoesNotContain(entries, e => e.StartsWith("Update kubectl-annotate", StringComparison.Ordinal) && e.Contains("f:replicas", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Contains("f:replicas", StringComparison.Ordinal) && !e.Contains("kubectl-annotate", StringComparison.Ordinal) && !e.Contains("operator", StringComparison.Ordinal));

        // Identical applies by the same manager stay no-ops; the same values applied by a new manager are a write.
        var rv = read.Metadata.ResourceVersion;
        const string sameImage = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1"}]}}}}""";
        Assert.Equal(rv, (await Apply(client, "operator", Full.Replace("\"replicas\":2,", "", StringComparison.Ordinal))).Metadata.ResourceVersion);
        var shared = await Apply(client, "deployer", sameImage);
        Assert.NotEqual(rv, shared.Metadata.ResourceVersion);
        Assert.Contains(shared.Metadata.ManagedFields, e => e is { Manager: "deployer", Operation: "Apply" });
    }
}

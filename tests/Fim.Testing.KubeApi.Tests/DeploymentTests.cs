using System.Net;
using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Tests.Support;
using k8s;
using k8s.Models;
using static Fim.Testing.KubeApi.Tests.Support.TestServer;

namespace Fim.Testing.KubeApi.Tests;

/// <summary>Deployment CRUD and patches through the real KubernetesClient typed API.</summary>
public sealed class DeploymentTests
{
    [Fact]
    public async Task Create_get_list_update_delete_roundtrip()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();

        var created = await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", replicas: 2), "default");
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.NotNull(created.Metadata.CreationTimestamp);
        Assert.Equal(1, created.Metadata.Generation);
        Assert.Equal("apps/v1", created.ApiVersion);
        Assert.Equal("Deployment", created.Kind);

        var read = await client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        Assert.Equal(created.Metadata.Uid, read.Metadata.Uid);
        Assert.Equal(2, read.Spec.Replicas);

        await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("api"), "default");
        var list = await client.AppsV1.ListNamespacedDeploymentAsync("default");
        Assert.Equal(["api", "web"], list.Items.Select(d => d.Metadata.Name));
        Assert.True(long.Parse(list.Metadata.ResourceVersion) >= Rv(read));

        read.Spec.Replicas = 4;
        var updated = await client.AppsV1.ReplaceNamespacedDeploymentAsync(read, "web", "default");
        Assert.Equal(4, updated.Spec.Replicas);
        Assert.True(Rv(updated) > Rv(read));

        await client.AppsV1.DeleteNamespacedDeploymentAsync("web", "default");
        var (code, status) = await FailureOf(() => client.AppsV1.ReadNamespacedDeploymentAsync("web", "default"));
        Assert.Equal(HttpStatusCode.NotFound, code);
        Assert.Equal("deployments.apps \"web\" not found", (string?)status["message"]);
        Assert.Equal("NotFound", (string?)status["reason"]);
        Assert.Equal("web", (string?)status["details"]!["name"]);
        Assert.Equal("apps", (string?)status["details"]!["group"]);
        Assert.Equal("deployments", (string?)status["details"]!["kind"]);
    }

    [Fact]
    public async Task Create_of_existing_name_is_409_AlreadyExists_and_generateName_makes_names()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "default");

        var (code, status) = await FailureOf(() => client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "default"));
        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Equal("AlreadyExists", (string?)status["reason"]);
        Assert.Equal("deployments.apps \"web\" already exists", (string?)status["message"]);

        var generated = Deployment("ignored");
        generated.Metadata.Name = null;
        generated.Metadata.GenerateName = "web-";
        var a = await client.AppsV1.CreateNamespacedDeploymentAsync(generated, "default");
        var b = await client.AppsV1.CreateNamespacedDeploymentAsync(generated, "default");
        Assert.Matches("^web-[a-z0-9]{5}$", a.Metadata.Name);
        Assert.NotEqual(a.Metadata.Name, b.Metadata.Name);
    }

    [Fact]
    public async Task Create_in_a_missing_namespace_is_404_and_bad_names_are_422()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var (code, status) = await FailureOf(() => client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "nowhere"));
        Assert.Equal(HttpStatusCode.NotFound, code);
        Assert.Equal("namespaces \"nowhere\" not found", (string?)status["message"]);

        (code, status) = await FailureOf(() => client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("Bad_Name"), "default"));
        Assert.Equal((HttpStatusCode)422, code);
        Assert.StartsWith("Deployment.apps \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain", (string?)status["message"]);
    }

    [Fact]
    public async Task Update_with_a_stale_resourceVersion_is_409_Conflict()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var first = await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "default");
        var stale = await client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");

        first.Spec.Replicas = 3;
        await client.AppsV1.ReplaceNamespacedDeploymentAsync(first, "web", "default");

        stale.Spec.Replicas = 5;
        var (code, status) = await FailureOf(() => client.AppsV1.ReplaceNamespacedDeploymentAsync(stale, "web", "default"));
        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Equal("Conflict", (string?)status["reason"]);
        Assert.Equal(
            "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again",
            (string?)status["message"]);
        Assert.Equal(3, (await client.AppsV1.ReadNamespacedDeploymentAsync("web", "default")).Spec.Replicas);
    }

    [Fact]
    public async Task Every_patch_type_applies()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "default");

        // JSON patch (RFC 6902)
        var afterJson = await client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""[{"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/metadata/labels/tier","value":"front"}]""", V1Patch.PatchType.JsonPatch),
            "web", "default");
        Assert.Equal(3, afterJson.Spec.Replicas);
        Assert.Equal("front", afterJson.Metadata.Labels["tier"]);

        // JSON merge patch (RFC 7386): null deletes, lists replace
        var afterMerge = await client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""{"metadata":{"labels":{"tier":null,"team":"fim"}}}""", V1Patch.PatchType.MergePatch), "web", "default");
        Assert.False(afterMerge.Metadata.Labels.ContainsKey("tier"));
        Assert.Equal("fim", afterMerge.Metadata.Labels["team"]);

        // Strategic merge patch: containers merge by name, so env and ports survive an image change
        var afterStrategic = await client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.27"},{"name":"sidecar","image":"busybox"}]}}}}""", V1Patch.PatchType.StrategicMergePatch),
            "web", "default");
        var containers = afterStrategic.Spec.Template.Spec.Containers;
        Assert.Equal(["main", "sidecar"], containers.Select(c => c.Name));
        Assert.Equal("nginx:1.27", containers[0].Image);
        Assert.Equal("A", Assert.Single(containers[0].Env).Name);
        Assert.Equal(80, Assert.Single(containers[0].Ports).ContainerPort);

        // Strategic merge patch directive: delete a list element by merge key
        var afterDelete = await client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}""", V1Patch.PatchType.StrategicMergePatch),
            "web", "default");
        Assert.Equal("main", Assert.Single(afterDelete.Spec.Template.Spec.Containers).Name);

        // Server-side apply (approximated: merged like a strategic merge patch; needs a fieldManager)
        var afterApply = await client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":7}}""", V1Patch.PatchType.ApplyPatch),
            "web", "default", fieldManager: "tests", force: true);
        Assert.Equal(7, afterApply.Spec.Replicas);
        Assert.Equal("nginx:1.27", afterApply.Spec.Template.Spec.Containers[0].Image);

        // Apply creates when absent
        var applied = await client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch(KubernetesJson.Serialize(Deployment("fresh")), V1Patch.PatchType.ApplyPatch), "fresh", "default", fieldManager: "tests");
        Assert.Equal("fresh", applied.Metadata.Name);
        Assert.Equal(1, applied.Metadata.Generation);
    }

    [Fact]
    public async Task Patch_errors_are_Status_objects()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "default");

        var (code, status) = await FailureOf(() => client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""[{"op":"test","path":"/spec/replicas","value":9}]""", V1Patch.PatchType.JsonPatch), "web", "default"));
        Assert.Equal((HttpStatusCode)422, code);

        (code, status) = await FailureOf(() => client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("[1,2]", V1Patch.PatchType.MergePatch), "web", "default"));
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Equal("BadRequest", (string?)status["reason"]);

        (code, _) = await FailureOf(() => client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""{"spec":{"replicas":2}}""", V1Patch.PatchType.ApplyPatch), "web", "default"));
        Assert.Equal(HttpStatusCode.BadRequest, code);

        (code, _) = await FailureOf(() => client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""{"spec":{"replicas":2}}""", V1Patch.PatchType.MergePatch), "missing", "default"));
        Assert.Equal(HttpStatusCode.NotFound, code);
    }

    [Fact]
    public async Task Generation_bumps_only_when_spec_changes()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var d = await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "default");
        Assert.Equal(1, d.Metadata.Generation);

        d = await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"metadata":{"labels":{"x":"y"},"annotations":{"a":"b"}}}""", V1Patch.PatchType.MergePatch), "web", "default");
        Assert.Equal(1, d.Metadata.Generation);

        d = await client.AppsV1.PatchNamespacedDeploymentStatusAsync(new V1Patch("""{"status":{"replicas":1,"observedGeneration":1}}""", V1Patch.PatchType.MergePatch), "web", "default");
        Assert.Equal(1, d.Metadata.Generation);

        d = await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"spec":{"replicas":5}}""", V1Patch.PatchType.MergePatch), "web", "default");
        Assert.Equal(2, d.Metadata.Generation);

        var rv = d.Metadata.ResourceVersion;
        d = await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"spec":{"replicas":5}}""", V1Patch.PatchType.MergePatch), "web", "default");
        Assert.Equal(2, d.Metadata.Generation);
        Assert.Equal(rv, d.Metadata.ResourceVersion); // a no-op write is not persisted
    }

    [Fact]
    public async Task Status_subresource_is_isolated_from_the_main_resource()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var withStatus = Deployment("web");
        withStatus.Status = new V1DeploymentStatus { Replicas = 9 };
        var d = await client.AppsV1.CreateNamespacedDeploymentAsync(withStatus, "default");
        Assert.Null(d.Status?.Replicas); // status is reset on create

        d.Status = new V1DeploymentStatus { ReadyReplicas = 1, Replicas = 1 };
        d = await client.AppsV1.ReplaceNamespacedDeploymentStatusAsync(d, "web", "default");
        Assert.Equal(1, d.Status.ReadyReplicas);

        // The main endpoint ignores .status ...
        d.Status.ReadyReplicas = 42;
        d.Spec.Replicas = 2;
        d = await client.AppsV1.ReplaceNamespacedDeploymentAsync(d, "web", "default");
        Assert.Equal(1, d.Status.ReadyReplicas);
        Assert.Equal(2, d.Spec.Replicas);

        // ... and the status endpoint ignores everything but .status.
        d.Spec.Replicas = 10;
        d.Metadata.Labels["sneaky"] = "yes";
        d.Status.ReadyReplicas = 2;
        d = await client.AppsV1.ReplaceNamespacedDeploymentStatusAsync(d, "web", "default");
        Assert.Equal(2, d.Spec.Replicas);
        Assert.False(d.Metadata.Labels.ContainsKey("sneaky"));
        Assert.Equal(2, d.Status.ReadyReplicas);

        var fromMerge = await client.AppsV1.PatchNamespacedDeploymentStatusAsync(
            new V1Patch("""{"spec":{"replicas":99},"status":{"availableReplicas":2}}""", V1Patch.PatchType.MergePatch), "web", "default");
        Assert.Equal(2, fromMerge.Spec.Replicas);
        Assert.Equal(2, fromMerge.Status.AvailableReplicas);

        var (code, _) = await FailureOf(() => client.CoreV1.ReplaceNamespacedConfigMapAsync(new V1ConfigMap(), "x", "default"));
        Assert.Equal(HttpStatusCode.NotFound, code);
    }

    [Fact]
    public async Task Scale_subresource_reads_and_writes_spec_replicas()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", replicas: 2), "default");
        var scale = await client.AppsV1.ReadNamespacedDeploymentScaleAsync("web", "default");
        Assert.Equal(2, scale.Spec.Replicas);
        Assert.Equal("app=web", scale.Status.Selector);

        await client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("""{"spec":{"replicas":6}}""", V1Patch.PatchType.MergePatch), "web", "default");
        Assert.Equal(6, (await client.AppsV1.ReadNamespacedDeploymentAsync("web", "default")).Spec.Replicas);
    }

    [Fact]
    public async Task List_pages_with_limit_and_continue_and_deletecollection_uses_selectors()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap($"cm-{i}", new Dictionary<string, string> { ["batch"] = i < 3 ? "a" : "b" }), "default");
        }

        var page1 = await client.CoreV1.ListNamespacedConfigMapAsync("default", limit: 2);
        Assert.Equal(["cm-0", "cm-1"], page1.Items.Select(c => c.Metadata.Name));
        Assert.Equal(3, page1.Metadata.RemainingItemCount);
        var page2 = await client.CoreV1.ListNamespacedConfigMapAsync("default", limit: 2, continueParameter: page1.Metadata.ContinueProperty);
        Assert.Equal(["cm-2", "cm-3"], page2.Items.Select(c => c.Metadata.Name));
        var page3 = await client.CoreV1.ListNamespacedConfigMapAsync("default", limit: 2, continueParameter: page2.Metadata.ContinueProperty);
        Assert.Equal(["cm-4"], page3.Items.Select(c => c.Metadata.Name));
        Assert.Null(page3.Metadata.ContinueProperty);

        await client.CoreV1.DeleteCollectionNamespacedConfigMapAsync("default", labelSelector: "batch=a");
        var left = await client.CoreV1.ListNamespacedConfigMapAsync("default");
        Assert.Equal(["cm-3", "cm-4"], left.Items.Select(c => c.Metadata.Name));
    }

    [Fact]
    public async Task Secrets_get_stringData_encoded_and_services_get_defaults()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var secret = await client.CoreV1.CreateNamespacedSecretAsync(
            new V1Secret { Metadata = new V1ObjectMeta { Name = "s" }, StringData = new Dictionary<string, string> { ["token"] = "abc" } }, "default");
        Assert.Equal("abc", System.Text.Encoding.UTF8.GetString(secret.Data["token"]));
        Assert.Null(secret.StringData);
        Assert.Equal("Opaque", secret.Type);

        var svc = await client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "api" },
            Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 443 }], Selector = new Dictionary<string, string> { ["app"] = "api" } },
        }, "default");
        Assert.Equal("ClusterIP", svc.Spec.Type);
        Assert.False(string.IsNullOrEmpty(svc.Spec.ClusterIP));
        Assert.Equal("TCP", svc.Spec.Ports[0].Protocol);
        Assert.Equal("443", svc.Spec.Ports[0].TargetPort.Value);

        var apiObject = JsonNode.Parse(KubernetesJson.Serialize(svc))!;
        Assert.Equal("v1", (string?)apiObject["apiVersion"]);
    }
}

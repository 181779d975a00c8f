using Fim.Testing;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Tests.Support;
using k8s;
using k8s.Models;
using static Fim.Testing.KubeApi.Tests.Support.TestServer;

namespace Fim.Testing.KubeApi.Tests;

/// <summary>CRD registration at runtime, schema validation, defaulting, pruning, printer columns.</summary>
public sealed class CrdTests
{
    private static GenericClient Policies(Kubernetes client) => new(client, SampleCrd.Group, SampleCrd.Version, SampleCrd.Plural, disposeClient: false);

    [Fact]
    public async Task A_registered_CRD_is_served_and_discoverable_with_short_names_and_categories()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var crd = await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(SampleCrd.Definition());
        Assert.Contains(crd.Status.Conditions, c => c.Type == "Established" && c.Status == "True");
        Assert.Equal(["v1alpha1"], crd.Status.StoredVersions);

        var resources = await client.CustomObjects.GetAPIResourcesAsync(SampleCrd.Group, SampleCrd.Version);
        var r = resources.Resources.Single(x => x.Name == "fimpolicies");
        Assert.True(r.Namespaced);
        Assert.Equal("FimPolicy", r.Kind);
        Assert.Equal(["fp"], r.ShortNames);
        Assert.Equal(["fim"], r.Categories);
        Assert.Contains(resources.Resources, x => x.Name == "fimpolicies/status");

        var groups = await client.Apis.GetAPIVersionsAsync();
        Assert.Contains(groups.Groups, g => g.Name == "fim.io" && g.PreferredVersion.Version == "v1alpha1");

        using var policies = Policies(client);
        var created = await policies.CreateNamespacedAsync(SampleCrd.Policy("etc"), "default");
        Assert.Equal(1, created.Metadata.Generation);
        var read = await policies.ReadNamespacedAsync<FimPolicy>("default", "etc");
        Assert.Equal("/etc", (string?)read.Spec!["paths"]![0]!["path"]);
        var list = await policies.ListNamespacedAsync<FimPolicyList>("default");
        Assert.Equal(["etc"], list.Items.Select(p => p.Metadata.Name));
    }

    [Fact]
    public async Task A_schema_violation_is_422_Invalid_with_field_paths_like_the_real_server()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await SampleCrd.RegisterAsync(client);
        using var policies = Policies(client);

        var bad = SampleCrd.Policy("bad", path: "etc");
        var (code, status) = await FailureOf(() => policies.CreateNamespacedAsync(bad, "default"));
        Assert.Equal((HttpStatusCode)422, code);
        Assert.Equal("Invalid", (string?)status["reason"]);
        Assert.Equal(
            "FimPolicy.fim.io \"bad\" is invalid: spec.paths[0].path: Invalid value: \"etc\": spec.paths[0].path in body should match '^/'",
            (string?)status["message"]);
        var details = status["details"]!;
        Assert.Equal("bad", (string?)details["name"]);
        Assert.Equal("fim.io", (string?)details["group"]);
        Assert.Equal("FimPolicy", (string?)details["kind"]);
        var cause = details["causes"]!.AsArray().Single()!;
        Assert.Equal("FieldValueInvalid", (string?)cause["reason"]);
        Assert.Equal("spec.paths[0].path", (string?)cause["field"]);
        Assert.Equal("Invalid value: \"etc\": spec.paths[0].path in body should match '^/'", (string?)cause["message"]);

        var many = new FimPolicy
        {
            Metadata = new V1ObjectMeta { Name = "many" },
            Spec = JsonNode.Parse("""
                {"severity":"extreme","rate":1.5,"paths":[{"maxDepth":100},{"path":"/a","maxDepth":"deep","hashes":["md5"]}]}
                """)!.AsObject(),
        };
        (code, status) = await FailureOf(() => policies.CreateNamespacedAsync(many, "default"));
        Assert.Equal((HttpStatusCode)422, code);
        var causes = status["details"]!["causes"]!.AsArray().Select(c => ((string?)c!["field"], (string?)c["message"])).ToList();
        Assert.Contains(("spec.severity", "Unsupported value: \"extreme\": supported values: \"low\", \"medium\", \"high\""), causes);
        Assert.Contains(("spec.paths[0].path", "Required value"), causes);
        Assert.Contains(("spec.paths[0].maxDepth", "Invalid value: 100: spec.paths[0].maxDepth in body should be less than or equal to 64"), causes);
        Assert.Contains(("spec.paths[1].maxDepth", "Invalid value: \"string\": spec.paths[1].maxDepth in body must be of type integer: \"string\""), causes);
        Assert.Contains(("spec.paths[1].hashes[0]", "Unsupported value: \"md5\": supported values: \"sha256\", \"sha512\""), causes);
        Assert.Contains(("spec.rate", "Invalid value: \"number\": spec.rate in body must be of type integer,string: \"number\""), causes);
        Assert.StartsWith("FimPolicy.fim.io \"many\" is invalid: [", (string?)status["message"]);

        var empty = new FimPolicy { Metadata = new V1ObjectMeta { Name = "empty" }, Spec = JsonNode.Parse("""{"paths":[]}""")!.AsObject() };
        (_, status) = await FailureOf(() => policies.CreateNamespacedAsync(empty, "default"));
        Assert.Equal("FimPolicy.fim.io \"empty\" is invalid: spec.paths: Invalid value: 0: spec.paths in body should have at least 1 items",
            (string?)status["message"]);

        var tooMany = new FimPolicy
        {
            Metadata = new V1ObjectMeta { Name = "too-many" },
            Spec = JsonNode.Parse("""{"paths":[{"path":"/a"},{"path":"/b"},{"path":"/c"},{"path":"/d"}]}""")!.AsObject(),
        };
        (_, status) = await FailureOf(() => policies.CreateNamespacedAsync(tooMany, "default"));
        Assert.Equal("FimPolicy.fim.io \"too-many\" is invalid: spec.paths: Too many: 4: must have at most 3 items", (string?)status["message"]);
    }

    [Fact]
    public async Task Defaults_are_applied_and_unknown_fields_pruned_but_preserved_where_the_schema_says_so()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await SampleCrd.RegisterAsync(client);
        using var policies = Policies(client);
        var policy = new FimPolicy
        {
            Metadata = new V1ObjectMeta { Name = "p" },
            Spec = JsonNode.Parse("""
                {"paths":[{"path":"/etc","bogus":true}],"unknownTop":1,"selector":{"role":"db"},"extra":{"anything":{"goes":[1,2]}},"rate":"10%"}
                """)!.AsObject(),
        };
        var created = await policies.CreateNamespacedAsync(policy, "default");
        var spec = created.Spec!;
        Assert.Equal("medium", (string?)spec["severity"]);
        Assert.True((bool?)spec["realtime"]);
        Assert.False(spec.ContainsKey("unknownTop"));
        Assert.False(spec["paths"]![0]!.AsObject().ContainsKey("bogus"));
        Assert.Equal("db", (string?)spec["selector"]!["role"]);
        Assert.Equal(2, (int?)spec["extra"]!["anything"]!["goes"]![1]);
        Assert.Equal("10%", (string?)spec["rate"]);

        // With fieldValidation=Strict the same unknown fields are a 400, like kubectl's default.
        var strict = await client.CustomObjects.CreateNamespacedCustomObjectWithHttpMessagesAsync(
                JsonNode.Parse("""{"apiVersion":"fim.io/v1alpha1","kind":"FimPolicy","metadata":{"name":"s"},"spec":{"paths":[{"path":"/x"}],"bogus":1}}"""),
                SampleCrd.Group, SampleCrd.Version, "default", SampleCrd.Plural, fieldValidation: "Warn");
        Assert.Contains(strict.Response.Headers.Warning, w => w.Text.Contains("unknown field \\\"spec.bogus\\\"", StringComparison.Ordinal) || w.Text.Contains("unknown field \"spec.bogus\"", StringComparison.Ordinal));
        var (code, status) = await FailureOf(() => client.CustomObjects.CreateNamespacedCustomObjectAsync(
            JsonNode.Parse("""{"apiVersion":"fim.io/v1alpha1","kind":"FimPolicy","metadata":{"name":"t"},"spec":{"paths":[{"path":"/x"}],"bogus":1}}"""),
            SampleCrd.Group, SampleCrd.Version, "default", SampleCrd.Plural, fieldValidation: "Strict"));
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Equal("FimPolicy in version \"v1alpha1\" cannot be handled as a FimPolicy: strict decoding error: unknown field \"spec.bogus\"", (string?)status["message"]);
    }

    [Fact]
    public async Task Custom_resource_status_subresource_generation_and_update_rules()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await SampleCrd.RegisterAsync(client);
        using var policies = Policies(client);
        var withStatus = SampleCrd.Policy("p");
        withStatus.Status = new JsonObject { ["pathCount"] = 5 };
        var p = await policies.CreateNamespacedAsync(withStatus, "default");
        Assert.Null(p.Status);

        var afterStatus = JsonNode.Parse((await client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch("""{"status":{"pathCount":1,"observedGeneration":1,"conditions":[{"type":"Ready","status":"True"}]},"spec":{"severity":"high"}}""", V1Patch.PatchType.MergePatch),
            SampleCrd.Group, SampleCrd.Version, "default", SampleCrd.Plural, "p")).ToString()!)!;
        Assert.Equal(1, (int?)afterStatus["status"]!["pathCount"]);
        Assert.Equal("medium", (string?)afterStatus["spec"]!["severity"]);
        Assert.Equal(1, (int?)afterStatus["metadata"]!["generation"]);

        var current = await policies.ReadNamespacedAsync<FimPolicy>("default", "p");
        current.Spec!["severity"] = "low";
        current.Status = new JsonObject { ["pathCount"] = 99 };
        var replaced = await policies.ReplaceNamespacedAsync(current, "default", "p");
        Assert.Equal("low", (string?)replaced.Spec!["severity"]);
        Assert.Equal(1, (int?)replaced.Status!["pathCount"]);
        Assert.Equal(2, replaced.Metadata.Generation);

        // Custom resources need a resourceVersion on PUT.
        replaced.Metadata.ResourceVersion = null;
        var (code, status) = await FailureOf(() => policies.ReplaceNamespacedAsync(replaced, "default", "p"));
        Assert.Equal((HttpStatusCode)422, code);
        Assert.Contains("metadata.resourceVersion: Invalid value: 0x0: must be specified for an update", (string?)status["message"]);

        // Strategic merge patch is not for custom resources.
        (code, status) = await FailureOf(() => policies.PatchNamespacedAsync<FimPolicy>(
            new V1Patch("""{"spec":{"severity":"high"}}""", V1Patch.PatchType.StrategicMergePatch), "default", "p"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, code);
        Assert.Equal("UnsupportedMediaType", (string?)status["reason"]);
    }

    [Fact]
    public async Task Without_a_status_subresource_status_is_ordinary_content()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var crd = SampleCrd.Definition();
        crd.Spec.Versions[0].Subresources = null;
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        using var policies = Policies(client);
        var withStatus = SampleCrd.Policy("p");
        withStatus.Status = new JsonObject { ["pathCount"] = 5 };
        var created = await policies.CreateNamespacedAsync(withStatus, "default");
        Assert.Equal(5, (int?)created.Status!["pathCount"]);

        var patched = await policies.PatchNamespacedAsync<FimPolicy>(new V1Patch("""{"status":{"pathCount":6}}""", V1Patch.PatchType.MergePatch), "default", "p");
        Assert.Equal(6, (int?)patched.Status!["pathCount"]);
        Assert.Equal(2, patched.Metadata.Generation);
        var (code, _) = await FailureOf(() => client.CustomObjects.GetNamespacedCustomObjectStatusAsync(SampleCrd.Group, SampleCrd.Version, "default", SampleCrd.Plural, "p"));
        Assert.Equal(HttpStatusCode.NotFound, code);
    }

    [Fact]
    public async Task Printer_columns_come_back_as_a_server_side_Table()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await SampleCrd.RegisterAsync(client);
        using var policies = Policies(client);
        await policies.CreateNamespacedAsync(SampleCrd.Policy("etc", severity: "high"), "default");
        await client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch("""{"status":{"pathCount":3,"conditions":[{"type":"Synced","status":"False"},{"type":"Ready","status":"True"}]}}""", V1Patch.PatchType.MergePatch),
            SampleCrd.Group, SampleCrd.Version, "default", SampleCrd.Plural, "etc");

        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apis/fim.io/v1alpha1/namespaces/default/fimpolicies");
        request.Headers.Accept.ParseAdd("application/json;as=Table;v=v1;g=meta.k8s.io");
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var table = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("Table", (string?)table["kind"]);
        Assert.Equal("meta.k8s.io/v1", (string?)table["apiVersion"]);
        Assert.Equal(["Name", "Severity", "Paths", "Ready", "Age"], table["columnDefinitions"]!.AsArray().Select(c => (string?)c!["name"]));
        var cells = table["rows"]![0]!["cells"]!.AsArray();
        Assert.Equal("etc", (string?)cells[0]);
        Assert.Equal("high", (string?)cells[1]);
        Assert.Equal(3, (long?)cells[2]);
        Assert.Equal("True", (string?)cells[3]);
        Assert.Matches("^[0-9]+s$", (string?)cells[4]);
        Assert.Equal("PartialObjectMetadata", (string?)table["rows"]![0]!["object"]!["kind"]);
    }

    [Fact]
    public async Task Cluster_scoped_CRDs_and_deleting_a_CRD_removes_its_objects_and_endpoint()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var crd = SampleCrd.Definition();
        crd.Metadata.Name = "fimclusterpolicies.fim.io";
        crd.Spec.Scope = "Cluster";
        crd.Spec.Names = new V1CustomResourceDefinitionNames { Plural = "fimclusterpolicies", Singular = "fimclusterpolicy", Kind = "FimClusterPolicy" };
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        using var cluster = new GenericClient(client, "fim.io", "v1alpha1", "fimclusterpolicies", disposeClient: false);
        var obj = SampleCrd.Policy("global");
        obj.Kind = "FimClusterPolicy";
        var created = await cluster.CreateAsync(obj);
        Assert.Null(created.Metadata.NamespaceProperty);
        Assert.Equal("global", (await cluster.ReadAsync<FimPolicy>("global")).Metadata.Name);

        await client.ApiextensionsV1.DeleteCustomResourceDefinitionAsync("fimclusterpolicies.fim.io");
        await Eventually.TrueAsync(async () => (await client.ApiextensionsV1.ListCustomResourceDefinitionAsync()).Items.Count == 0, "the CRD to go");
        var (code, _) = await FailureOf(() => cluster.ReadAsync<FimPolicy>("global"));
        Assert.Equal(HttpStatusCode.NotFound, code);
    }

    [Fact]
    public async Task Served_versions_share_storage_and_discovery_prefers_the_most_stable()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var crd = SampleCrd.Definition();
        var beta = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(SampleCrd.Yaml).Spec.Versions[0];
        beta.Name = "v1beta1";
        beta.Storage = false;
        crd.Spec.Versions.Add(beta);
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);

        using var alpha = Policies(client);
        using var betaClient = new GenericClient(client, SampleCrd.Group, "v1beta1", SampleCrd.Plural, disposeClient: false);
        var created = SampleCrd.Policy("p");
        created.ApiVersion = "fim.io/v1beta1";
        await betaClient.CreateNamespacedAsync(created, "default");
        var viaAlpha = await alpha.ReadNamespacedAsync<FimPolicy>("default", "p");
        Assert.Equal("fim.io/v1alpha1", viaAlpha.ApiVersion);
        Assert.Equal("fim.io/v1beta1", (await betaClient.ReadNamespacedAsync<FimPolicy>("default", "p")).ApiVersion);

        var group = (await client.Apis.GetAPIVersionsAsync()).Groups.Single(g => g.Name == "fim.io");
        Assert.Equal("v1beta1", group.PreferredVersion.Version);
        Assert.Equal(["v1beta1", "v1alpha1"], group.Versions.Select(v => v.Version));
    }

    [Fact]
    public async Task Custom_resources_are_watched_like_built_ins()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await SampleCrd.RegisterAsync(client);
        using var policies = Policies(client);
        var list = await policies.ListNamespacedAsync<FimPolicyList>("default");
        using var watch = WatchCollector<FimPolicy>.Start(client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<FimPolicyList>(
            SampleCrd.Group, SampleCrd.Version, "default", SampleCrd.Plural, watch: true, resourceVersion: list.Metadata.ResourceVersion));
        await policies.CreateNamespacedAsync(SampleCrd.Policy("a"), "default");
        // Like the real server, deleting a custom resource answers with a Status, not the object.
        var status = await policies.DeleteNamespacedAsync<V1Status>("default", "a");
        Assert.Equal("Success", status.Status);
        Assert.Equal("fimpolicies", status.Details.Kind);
        var added = await watch.NextAsync();
        var deleted = await watch.NextAsync();
        Assert.Equal((WatchEventType.Added, "medium"), (added.Type, (string?)added.Object.Spec!["severity"]));
        Assert.Equal(WatchEventType.Deleted, deleted.Type);
    }
}

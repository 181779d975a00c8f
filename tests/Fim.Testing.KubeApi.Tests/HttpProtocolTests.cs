using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using static Fim.Testing.KubeApi.Tests.Support.TestServer;

namespace Fim.Testing.KubeApi.Tests;

/// <summary>Discovery, OpenAPI and error shapes on the wire.</summary>
public sealed class HttpProtocolTests
{
    private static async Task<(HttpStatusCode Code, string ContentType, JsonNode? Body)> Get(KubeApiServer server, string path, string? accept = null)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.Content.Headers.ContentType?.ToString() ?? "", text.StartsWith('{') ? JsonNode.Parse(text) : null);
    }

    [Fact]
    public async Task Legacy_discovery_documents()
    {
        await using var server = await StartAsync();
        var (_, _, api) = await Get(server, "/api");
        Assert.Equal("APIVersions", (string?)api!["kind"]);
        Assert.Equal("v1", (string?)api["versions"]![0]);

        var (_, _, core) = await Get(server, "/api/v1");
        var ns = core!["resources"]!.AsArray().Single(r => (string?)r!["name"] == "namespaces")!;
        Assert.False((bool?)ns["namespaced"]);
        Assert.Contains(core["resources"]!.AsArray(), r => (string?)r!["name"] == "namespaces/status");

        var (_, _, groups) = await Get(server, "/apis");
        Assert.Equal("APIGroupList", (string?)groups!["kind"]);
        Assert.Contains(groups["groups"]!.AsArray(), g => (string?)g!["name"] == "coordination.k8s.io");

        var (_, _, apps) = await Get(server, "/apis/apps/v1");
        var deployments = apps!["resources"]!.AsArray().Single(r => (string?)r!["name"] == "deployments")!;
        Assert.Equal(["deploy"], deployments["shortNames"]!.AsArray().Select(s => (string?)s));
        Assert.Contains(apps["resources"]!.AsArray(), r => (string?)r!["name"] == "deployments/scale" && (string?)r["kind"] == "Scale");

        Assert.Equal(HttpStatusCode.NotFound, (await Get(server, "/apis/nope.io/v1")).Code);
        Assert.Equal("1", (string?)(await Get(server, "/version")).Body!["major"]);
    }

    [Fact]
    public async Task Aggregated_discovery_is_served_when_asked_for()
    {
        await using var server = await StartAsync();
        const string accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
        var (_, contentType, body) = await Get(server, "/apis", accept);
        Assert.Equal("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", contentType.Replace(" ", "", StringComparison.Ordinal));
        Assert.Equal("APIGroupDiscoveryList", (string?)body!["kind"]);
        var apps = body["items"]!.AsArray().Single(i => (string?)i!["metadata"]!["name"] == "apps")!;
        var deployments = apps["versions"]![0]!["resources"]!.AsArray().Single(r => (string?)r!["resource"] == "deployments")!;
        Assert.Equal("Namespaced", (string?)deployments["scope"]);
        Assert.Equal("Deployment", (string?)deployments["responseKind"]!["kind"]);
        Assert.Contains(deployments["subresources"]!.AsArray(), s => (string?)s!["subresource"] == "status");

        var (_, legacyType, legacy) = await Get(server, "/apis", "application/json");
        Assert.StartsWith("application/json", legacyType);
        Assert.Equal("APIGroupList", (string?)legacy!["kind"]);
    }

    [Fact]
    public async Task OpenApi_v3_declares_fieldValidation_for_every_kinds_patch()
    {
        await using var server = await StartAsync();
        var (_, _, index) = await Get(server, "/openapi/v3");
        var url = (string?)index!["paths"]!["apis/apps/v1"]!["serverRelativeURL"];
        Assert.StartsWith("/openapi/v3/apis/apps/v1?hash=", url);
        var (_, _, doc) = await Get(server, url!);
        var patch = doc!["paths"]!["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]!["patch"]!;
        Assert.Equal("Deployment", (string?)patch["x-kubernetes-group-version-kind"]!["kind"]);
        Assert.Contains(patch["parameters"]!.AsArray(), p => (string?)p!["name"] == "fieldValidation");
        Assert.Equal(HttpStatusCode.NotFound, (await Get(server, "/openapi/v2")).Code);
    }

    [Fact]
    public async Task Unknown_paths_wrong_methods_and_media_types_are_Status_errors()
    {
        await using var server = await StartAsync();
        var (code, _, body) = await Get(server, "/apis/apps/v1/namespaces/default/widgets");
        Assert.Equal(HttpStatusCode.NotFound, code);
        Assert.Equal("the server could not find the requested resource", (string?)body!["message"]);

        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        using var put = await http.PutAsync("/api/v1/namespaces/default/configmaps", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        Assert.Equal("MethodNotAllowed", (string?)JsonNode.Parse(await put.Content.ReadAsStringAsync())!["reason"]);

        using var proto = new ByteArrayContent([0x6b, 0x38, 0x73, 0x00]);
        proto.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.kubernetes.protobuf");
        using var post = await http.PostAsync("/api/v1/namespaces/default/configmaps", proto);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, post.StatusCode);

        using var badPatch = new HttpRequestMessage(HttpMethod.Patch, "/api/v1/namespaces/default/configmaps/x")
        {
            Content = new StringContent("{}", Encoding.UTF8, "text/plain"),
        };
        using var badPatchResponse = await http.SendAsync(badPatch);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, badPatchResponse.StatusCode);
        Assert.Contains("application/strategic-merge-patch+json", (string?)JsonNode.Parse(await badPatchResponse.Content.ReadAsStringAsync())!["message"]);

        using var yaml = new StringContent("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  n: '1'\n", Encoding.UTF8);
        yaml.Headers.ContentType = new MediaTypeHeaderValue("application/yaml");
        using var created = await http.PostAsync("/api/v1/namespaces/default/configmaps", yaml);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("1", (string?)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["data"]!["n"]);
    }

    [Fact]
    public async Task Built_in_tables_have_name_and_age()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), "default");
        var (_, _, table) = await Get(server, "/api/v1/namespaces/default/configmaps/a", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
        Assert.Equal("Table", (string?)table!["kind"]);
        Assert.Equal(["Name", "Age"], table["columnDefinitions"]!.AsArray().Select(c => (string?)c!["name"]));
        Assert.Equal("a", (string?)table["rows"]![0]!["cells"]![0]);
    }

    [Fact]
    public async Task Raw_watch_streams_support_legacy_paths_initial_events_and_tables()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b"), "default");
        using var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(20) };

        async Task<List<JsonNode>> Lines(string path, string? accept = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (accept is not null)
            {
                request.Headers.TryAddWithoutValidation("Accept", accept);
            }

            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var lines = new List<JsonNode>();
            while (await reader.ReadLineAsync() is { } line)
            {
                lines.Add(JsonNode.Parse(line)!);
            }

            return lines;
        }

        // sendInitialEvents: ADDED for the current state, then a bookmark marking the end of it (and one before the timeout).
        var initial = await Lines("/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1");
        Assert.Equal(["ADDED", "ADDED", "BOOKMARK"], initial.Take(3).Select(l => (string?)l["type"]));
        Assert.Equal("true", (string?)initial[2]["object"]!["metadata"]!["annotations"]!["k8s.io/initial-events-end"]);
        Assert.Equal("BOOKMARK", (string?)initial[^1]["type"]);

        // Legacy /watch/ path on one object.
        var legacy = await Lines("/api/v1/watch/namespaces/default/configmaps/b?timeoutSeconds=1");
        Assert.Equal("b", (string?)Assert.Single(legacy)["object"]!["metadata"]!["name"]);

        // Tables in watch events, as kubectl get -w asks for them.
        var tables = await Lines("/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
        Assert.All(tables, t => Assert.Equal("Table", (string?)t["object"]!["kind"]));
        Assert.Equal("a", (string?)tables[0]["object"]!["rows"]![0]!["cells"]![0]);
    }

    [Fact]
    public async Task Tls_mode_works_for_the_client_and_the_kubeconfig_carries_the_CA()
    {
        await using var server = await StartAsync(o => o.UseTls = true);
        Assert.StartsWith("https://127.0.0.1:", server.Url);
        Assert.Contains("certificate-authority-data:", server.KubeconfigYaml());
        using var client = server.CreateClient();
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("secure"), "default");
        Assert.Equal("secure", (await client.CoreV1.ReadNamespacedConfigMapAsync("secure", "default")).Metadata.Name);

        var fromKubeconfig = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(
            new MemoryStream(Encoding.UTF8.GetBytes(server.KubeconfigYaml()))));
        Assert.Contains((await fromKubeconfig.CoreV1.ListNamespaceAsync()).Items, n => n.Metadata.Name == "default");
        fromKubeconfig.Dispose();

        using var kubectl = Kubectl.For(server.WriteKubeconfig);
        Assert.Contains("secure", await kubectl.OkAsync("get", "configmaps"));
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Schema;
using Fim.Testing;
using k8s;
using k8s.Models;
using static Fim.Testing.KubeApi.Tests.Support.TestServer;

namespace Fim.Testing.KubeApi.Tests;

/// <summary>
/// Built-in objects are validated against the Kubernetes OpenAPI schemas (npm kubernetes-models, through node) and the
/// apiserver's hand-written rules; PriorityClass is served; protobuf DeleteOptions bodies are decoded.
/// </summary>
public sealed class SchemaValidationTests
{
    private static Task<KubeApiServer> StartValidatingAsync() => StartAsync(o => o.SchemaValidation = SchemaValidation.Required);

    private static async Task<(HttpStatusCode Code, JsonObject Body, string[] Warnings)> Send(KubeApiServer server, HttpMethod method, string path, string json)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request);
        var warnings = response.Headers.TryGetValues("Warning", out var w) ? w.ToArray() : [];
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject(), warnings);
    }

    [Fact]
    public void The_validators_are_installed()
    {
        Assert.True(ModelValidator.MissingReason is null, ModelValidator.MissingReason);
    }

    [Fact]
    public async Task An_out_of_range_container_port_is_refused_with_its_field_path()
    {
        await using var server = await StartValidatingAsync();
        using var client = server.CreateClient();
        var d = Deployment("web");
        d.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort = 99999;

        var (code, status) = await FailureOf(() => client.AppsV1.CreateNamespacedDeploymentAsync(d, "default"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        Assert.Equal("Invalid", (string?)status["reason"]);
        Assert.Contains("Deployment.apps \"web\" is invalid: spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 99999: must be between 1 and 65535, inclusive",
            (string?)status["message"]);
        Assert.Equal("spec.template.spec.containers[0].ports[0].containerPort", (string?)status["details"]!["causes"]![0]!["field"]);
        await FailureOf(() => client.AppsV1.ReadNamespacedDeploymentAsync("web", "default"));

        d.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort = 8080;
        await client.AppsV1.CreateNamespacedDeploymentAsync(d, "default");
        var stored = await client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        stored.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort = 0;
        var (updateCode, _) = await FailureOf(() => client.AppsV1.ReplaceNamespacedDeploymentAsync(stored, "web", "default"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, updateCode);
    }

    [Fact]
    public async Task Schema_types_enums_and_required_fields_are_checked()
    {
        await using var server = await StartValidatingAsync();
        const string Body = """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bad"},
             "spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},
               "spec":{"containers":[{"name":"c","image":5,"ports":[{"containerPort":80,"protocol":"TCPX"}]},{"image":"x"}]}}}}
            """;
        var (code, status, _) = await Send(server, HttpMethod.Post, "/apis/apps/v1/namespaces/default/deployments", Body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        var fields = status["details"]!["causes"]!.AsArray().Select(c => (string?)c!["field"]).ToList();
        Assert.Contains("spec.template.spec.containers[0].image", fields);
        Assert.Contains("spec.template.spec.containers[0].ports[0].protocol", fields);
        Assert.Contains("spec.template.spec.containers[1].name", fields);
        Assert.Contains("supported values: \"SCTP\", \"TCP\", \"UDP\"", (string?)status["message"]);
    }

    [Fact]
    public async Task Unknown_fields_of_built_ins_follow_field_validation()
    {
        await using var server = await StartValidatingAsync();
        const string Body = """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"NAME"},"data":{"a":"1"},"dta":{"b":"2"}}""";

        var (strictCode, strict, _) = await Send(server, HttpMethod.Post, "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", Body.Replace("NAME", "s", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, strictCode);
        Assert.Contains("strict decoding error: unknown field \"dta\"", (string?)strict["message"]);

        var (warnCode, warned, warnings) = await Send(server, HttpMethod.Post, "/api/v1/namespaces/default/configmaps", Body.Replace("NAME", "w", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Created, warnCode);
        Assert.Null(warned["dta"]);
        Assert.Equal("1", (string?)warned["data"]!["a"]);
        Assert.Contains(warnings, w => w.Contains("unknown field \\\"dta\\\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kubectl_apply_reports_the_invalid_field()
    {
        await using var server = await StartValidatingAsync();
        using var kubectl = Kubectl.For(server.WriteKubeconfig);
        var manifest = kubectl.WriteFile("bad.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: default}
            spec:
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                    - name: web
                      image: nginx
                      ports: [{containerPort: 99999}]
            """);

        var r = await kubectl.RunAsync("apply", "-f", manifest);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 99999", r.Stderr);
    }

    [Fact]
    public async Task PriorityClasses_are_served_and_validated()
    {
        await using var server = await StartValidatingAsync();
        using var client = server.CreateClient();
        await client.SchedulingV1.CreatePriorityClassAsync(new V1PriorityClass
        {
            Metadata = new V1ObjectMeta { Name = "fim-agent" },
            Value = 1_000_000,
            Description = "node agents",
            PreemptionPolicy = "PreemptLowerPriority",
        });
        var read = await client.SchedulingV1.ReadPriorityClassAsync("fim-agent");
        Assert.Equal(1_000_000, read.Value);
        Assert.Equal("node agents", read.Description);

        var (code, status) = await FailureOf(() => client.SchedulingV1.CreatePriorityClassAsync(new V1PriorityClass
        {
            Metadata = new V1ObjectMeta { Name = "too-high" },
            Value = 2_000_000_000,
        }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        Assert.Contains("value: Forbidden: maximum allowed value of a user defined priority is 1000000000", (string?)status["message"]);

        await client.SchedulingV1.DeletePriorityClassAsync("fim-agent");
        Assert.Empty((await client.SchedulingV1.ListPriorityClassAsync()).Items);
    }

    [Fact]
    public async Task A_protobuf_delete_body_is_decoded()
    {
        await using var server = await StartValidatingAsync();
        using var client = server.CreateClient();
        var owner = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("owner"), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(
            ConfigMap("child", owners: [new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "owner", Uid = owner.Metadata.Uid }]), "default");

        // "k8s\0" + runtime.Unknown{typeMeta{apiVersion: v1, kind: DeleteOptions}, raw: DeleteOptions{propagationPolicy: Orphan}}
        byte[] typeMeta = [.. Field(1, "v1"u8), .. Field(2, "DeleteOptions"u8)];
        byte[] raw = Field(4, "Orphan"u8);
        byte[] body = [.. "k8s\0"u8, .. Field(1, typeMeta), .. Field(2, raw)];
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.kubernetes.protobuf");
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/api/v1/namespaces/default/configmaps/owner") { Content = content };
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var child = await client.CoreV1.ReadNamespacedConfigMapAsync("child", "default");
        Assert.True(child.Metadata.OwnerReferences is null or { Count: 0 }); // orphaned, as the protobuf body asked, not garbage-collected
    }

    private static byte[] Field(int number, ReadOnlySpan<byte> value) => [(byte)((number << 3) | 2), (byte)value.Length, .. value];
}

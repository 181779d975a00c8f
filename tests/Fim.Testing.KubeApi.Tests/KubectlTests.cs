using Fim.Testing.KubeApi.Tests.Support;
using k8s;
using k8s.Models;
using static Fim.Testing.KubeApi.Tests.Support.TestServer;

namespace Fim.Testing.KubeApi.Tests;

/// <summary>The real kubectl (v1.33, from scripts/fetch-kube-tools.sh) against the double.</summary>
public sealed class KubectlTests
{
    private const string Policy = """
        apiVersion: fim.io/v1alpha1
        kind: FimPolicy
        metadata:
          name: etc
        spec:
          severity: high
          paths:
          - path: /etc
            maxDepth: 3
        """;

    private const string DeploymentYaml = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels: {app: web}
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: nginx:1.25
                env:
                - {name: A, value: "1"}
        """;

    [Fact]
    public async Task Apply_CRD_and_CR_get_shows_printer_columns_then_delete()
    {
        await using var server = await StartAsync();
        using var kubectl = Kubectl.For(server.WriteKubeconfig);
        var crdFile = kubectl.WriteFile("crd.yaml", SampleCrd.Yaml);
        var crFile = kubectl.WriteFile("cr.yaml", Policy);

        Assert.Contains("customresourcedefinition.apiextensions.k8s.io/fimpolicies.fim.io created", await kubectl.OkAsync("apply", "-f", crdFile));
        Assert.Contains("condition met", await kubectl.OkAsync("wait", "--for=condition=Established", "crd/fimpolicies.fim.io", "--timeout=2m"));
        Assert.Contains("fimpolicy.fim.io/etc created", await kubectl.OkAsync("apply", "-f", crFile));

        using var client = server.CreateClient();
        await client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch("""{"status":{"pathCount":1,"conditions":[{"type":"Ready","status":"True"}]}}""", V1Patch.PatchType.MergePatch),
            "fim.io", "v1alpha1", "default", "fimpolicies", "etc");

        var table = (await kubectl.OkAsync("get", "fimpolicies")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^NAME\s+SEVERITY\s+PATHS\s+READY\s+AGE$", table[0]);
        Assert.Matches(@"^etc\s+high\s+1\s+True\s+\d+s$", table[1]);
        Assert.Contains("etc", await kubectl.OkAsync("get", "fp", "-o", "name"));
        Assert.Contains("etc", await kubectl.OkAsync("get", "fim", "-A"));
        Assert.Equal("3", await kubectl.OkAsync("get", "fimpolicy", "etc", "-o", "jsonpath={.spec.paths[0].maxDepth}"));

        // Re-apply a change: kubectl sends a JSON merge patch for a custom resource.
        kubectl.WriteFile("cr.yaml", Policy.Replace("maxDepth: 3", "maxDepth: 5", StringComparison.Ordinal));
        Assert.Contains("fimpolicy.fim.io/etc configured", await kubectl.OkAsync("apply", "-f", crFile));
        Assert.Equal("5 2", await kubectl.OkAsync("get", "fimpolicy", "etc", "-o", "jsonpath={.spec.paths[0].maxDepth} {.metadata.generation}"));

        Assert.Contains("fimpolicy.fim.io \"etc\" deleted", await kubectl.OkAsync("delete", "-f", crFile));
        Assert.Contains("No resources found", (await kubectl.RunAsync("get", "fimpolicies")).Stderr);
        Assert.Contains("deleted", await kubectl.OkAsync("delete", "-f", crdFile));
    }

    [Fact]
    public async Task Apply_of_an_invalid_CR_prints_the_servers_422_and_unknown_fields_are_refused()
    {
        await using var server = await StartAsync();
        using var kubectl = Kubectl.For(server.WriteKubeconfig);
        await kubectl.OkAsync("apply", "-f", kubectl.WriteFile("crd.yaml", SampleCrd.Yaml));

        var (_, code, _, stderr) = await kubectl.RunAsync("apply", "-f", kubectl.WriteFile("bad.yaml", Policy.Replace("path: /etc", "path: etc", StringComparison.Ordinal)));
        Assert.NotEqual(0, code);
        Assert.Contains("The FimPolicy \"etc\" is invalid", stderr);
        Assert.Contains("spec.paths[0].path: Invalid value: \"etc\": spec.paths[0].path in body should match '^/'", stderr);

        (_, code, _, stderr) = await kubectl.RunAsync("apply", "-f", kubectl.WriteFile("unknown.yaml", Policy.Replace("severity: high", "severity: high\n  bogus: 1", StringComparison.Ordinal)));
        Assert.NotEqual(0, code);
        Assert.Contains("strict decoding error: unknown field \"spec.bogus\"", stderr);

        // --validate=false keeps the fields out by pruning instead.
        await kubectl.OkAsync("create", "--validate=false", "-f", kubectl.Directory + "/unknown.yaml");
        Assert.DoesNotContain("bogus", await kubectl.OkAsync("get", "fimpolicy", "etc", "-o", "json"));
    }

    [Fact]
    public async Task Apply_get_scale_patch_and_delete_a_Deployment()
    {
        await using var server = await StartAsync();
        using var kubectl = Kubectl.For(server.WriteKubeconfig);
        var file = kubectl.WriteFile("deploy.yaml", DeploymentYaml);
        Assert.Contains("deployment.apps/web created", await kubectl.OkAsync("apply", "-f", file));

        // A second apply computes a strategic merge patch ($setElementOrder, containers by name).
        kubectl.WriteFile("deploy.yaml", DeploymentYaml.Replace("nginx:1.25", "nginx:1.27", StringComparison.Ordinal).Replace("replicas: 2", "replicas: 3", StringComparison.Ordinal));
        Assert.Contains("deployment.apps/web configured", await kubectl.OkAsync("apply", "-f", file));
        Assert.Equal("3 nginx:1.27 A 2", await kubectl.OkAsync("get", "deploy", "web", "-o",
            "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[0].name} {.metadata.generation}"));

        var table = (await kubectl.OkAsync("get", "deployments")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^NAME\s+AGE$", table[0]);
        Assert.Matches(@"^web\s+\d+s$", table[1]);

        await kubectl.OkAsync("scale", "deployment", "web", "--replicas=5");
        await kubectl.OkAsync("label", "deployment", "web", "tier=front");
        await kubectl.OkAsync("patch", "deployment", "web", "--type=json", "-p", """[{"op":"add","path":"/spec/minReadySeconds","value":4}]""");
        Assert.Equal("5 front 4", await kubectl.OkAsync("get", "deploy", "-l", "tier=front", "-o", "jsonpath={.items[0].spec.replicas} {.items[0].metadata.labels.tier} {.items[0].spec.minReadySeconds}"));

        Assert.Contains("deployment.apps/web serverside-applied", await kubectl.OkAsync("apply", "--server-side", "-f", file));

        Assert.Contains("deployment.apps \"web\" deleted", await kubectl.OkAsync("delete", "-f", file));
        var (_, code, _, stderr) = await kubectl.RunAsync("get", "deployment", "web");
        Assert.NotEqual(0, code);
        Assert.Contains("deployments.apps \"web\" not found", stderr);
    }

    [Fact]
    public async Task Typed_create_generators_send_protobuf_which_is_decoded_for_core_kinds()
    {
        await using var server = await StartAsync();
        using var kubectl = Kubectl.For(server.WriteKubeconfig);
        Assert.Contains("namespace/team-b created", await kubectl.OkAsync("create", "namespace", "team-b"));
        Assert.Contains("configmap/c1 created", await kubectl.OkAsync("-n", "team-b", "create", "configmap", "c1", "--from-literal=x=y", "--from-literal=z=w"));
        Assert.Contains("secret/s1 created", await kubectl.OkAsync("-n", "team-b", "create", "secret", "generic", "s1", "--from-literal=a=b"));
        Assert.Contains("serviceaccount/bot created", await kubectl.OkAsync("-n", "team-b", "create", "serviceaccount", "bot"));

        using var client = server.CreateClient();
        var cm = await client.CoreV1.ReadNamespacedConfigMapAsync("c1", "team-b");
        Assert.Equal(new Dictionary<string, string> { ["x"] = "y", ["z"] = "w" }, cm.Data);
        Assert.Null(cm.Metadata.GenerateName);
        var secret = await client.CoreV1.ReadNamespacedSecretAsync("s1", "team-b");
        Assert.Equal("b", System.Text.Encoding.UTF8.GetString(secret.Data["a"]));
        Assert.Equal("Opaque", secret.Type);
        Assert.Equal(["kubernetes"], (await client.CoreV1.ReadNamespaceAsync("team-b")).Spec.Finalizers);

        var (_, code, _, stderr) = await kubectl.RunAsync("-n", "team-b", "create", "deployment", "web", "--image=nginx");
        Assert.NotEqual(0, code);
        Assert.Contains("decodes protobuf only for", stderr);
    }

    [Fact]
    public async Task Create_from_files_and_namespaces_and_version()
    {
        await using var server = await StartAsync();
        using var kubectl = Kubectl.For(server.WriteKubeconfig);
        var file = kubectl.WriteFile("things.yaml", """
            apiVersion: v1
            kind: Namespace
            metadata: {name: team-a}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, namespace: team-a}
            data: {level: "3"}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: token, namespace: team-a}
            stringData: {value: s3cret}
            """);
        var created = await kubectl.OkAsync("create", "-f", file);
        Assert.Contains("namespace/team-a created", created);
        Assert.Contains("configmap/settings created", created);
        Assert.Contains("secret/token created", created);
        var (_, code, _, stderr) = await kubectl.RunAsync("create", "-f", file);
        Assert.NotEqual(0, code);
        Assert.Contains("AlreadyExists", stderr);

        Assert.Equal("czNjcmV0", await kubectl.OkAsync("-n", "team-a", "get", "secret", "token", "-o", "jsonpath={.data.value}"));
        Assert.Contains("Server Version: v1.33", await kubectl.OkAsync("version"));
        Assert.Contains("deployments", await kubectl.OkAsync("api-resources"));

        Assert.Contains("namespace \"team-a\" deleted", await kubectl.OkAsync("delete", "namespace", "team-a"));
        Assert.DoesNotContain("team-a", await kubectl.OkAsync("get", "namespaces"));
    }
}

using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Fim.Testing.KubeApi.Tests.Support;

internal static class TestServer
{
    public static async Task<KubeApiServer> StartAsync(Action<KubeApiServerOptions>? configure = null)
    {
        var options = new KubeApiServerOptions();
        configure?.Invoke(options);
        var server = new KubeApiServer(options);
        await server.StartAsync();
        return server;
    }

    /// <summary>Runs a call that must fail and returns the Status body the server sent.</summary>
    public static async Task<(HttpStatusCode Code, JsonObject Status)> FailureOf(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<HttpOperationException>(call);
        var status = JsonNode.Parse(e.Response.Content)!.AsObject();
        Assert.Equal("Status", (string?)status["kind"]);
        Assert.Equal("Failure", (string?)status["status"]);
        Assert.Equal((int)e.Response.StatusCode, (int?)status["code"]);
        return (e.Response.StatusCode, status);
    }

    public static V1Deployment Deployment(string name, string image = "nginx:1.25", int replicas = 1, IDictionary<string, string>? labels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels ?? new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec
                {
                    Containers =
                    [
                        new V1Container
                        {
                            Name = "main",
                            Image = image,
                            Env = [new V1EnvVar { Name = "A", Value = "1" }],
                            Ports = [new V1ContainerPort { ContainerPort = 80 }],
                        },
                    ],
                },
            },
        },
    };

    public static V1ConfigMap ConfigMap(string name, IDictionary<string, string>? labels = null, IList<V1OwnerReference>? owners = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels, OwnerReferences = owners },
        Data = new Dictionary<string, string> { ["k"] = "v" },
    };

    public static V1OwnerReference OwnerRef(IKubernetesObject<V1ObjectMeta> owner) =>
        new()
        {
            ApiVersion = owner.ApiVersion,
            Kind = owner.Kind,
            Name = owner.Metadata.Name,
            Uid = owner.Metadata.Uid,
            BlockOwnerDeletion = true,
            Controller = true,
        };

    public static long Rv(IMetadata<V1ObjectMeta> o) => long.Parse(o.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture);

    public static long Rv(IMetadata<V1ListMeta> o) => long.Parse(o.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture);
}

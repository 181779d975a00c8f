using Fim.Testing;
using System.Net;
using k8s;
using k8s.Models;
using static Fim.Testing.KubeApi.Tests.Support.TestServer;

namespace Fim.Testing.KubeApi.Tests;

/// <summary>The hooks tests use to misbehave the server and to measure what a client asked of it.</summary>
public sealed class TestHookTests
{
    [Fact]
    public async Task FailNext_fails_exactly_the_matching_requests_then_recovers()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), "default");

        server.FailNext("get", "configmaps", 500, times: 2, message: "etcd is on fire");
        server.FailNext("update", "deployments/status", 409);
        Assert.Equal(3, server.PendingFailures);

        await client.CoreV1.ListNamespacedConfigMapAsync("default"); // list is not get
        var (code, status) = await FailureOf(() => client.CoreV1.ReadNamespacedConfigMapAsync("a", "default"));
        Assert.Equal(HttpStatusCode.InternalServerError, code);
        Assert.Equal("InternalError", (string?)status["reason"]);
        Assert.Equal("etcd is on fire", (string?)status["message"]);
        (code, _) = await FailureOf(() => client.CoreV1.ReadNamespacedConfigMapAsync("a", "default"));
        Assert.Equal(HttpStatusCode.InternalServerError, code);
        Assert.Equal("a", (await client.CoreV1.ReadNamespacedConfigMapAsync("a", "default")).Metadata.Name);

        var d = await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "default");
        d.Status = new V1DeploymentStatus { Replicas = 1 };
        (code, _) = await FailureOf(() => client.AppsV1.ReplaceNamespacedDeploymentStatusAsync(d, "web", "default"));
        Assert.Equal(HttpStatusCode.Conflict, code);
        await client.AppsV1.ReplaceNamespacedDeploymentStatusAsync(d, "web", "default");
        Assert.Equal(0, server.PendingFailures);

        server.FailNext("*", "*", 503);
        (code, status) = await FailureOf(() => client.CoreV1.ListNamespaceAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Equal("ServiceUnavailable", (string?)status["reason"]);
    }

    [Fact]
    public async Task Requests_are_counted_per_verb_and_resource()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        server.ResetRequestCounts();

        await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "default");
        await client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        await client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        await client.AppsV1.ListNamespacedDeploymentAsync("default");
        await client.AppsV1.PatchNamespacedDeploymentStatusAsync(new V1Patch("""{"status":{"replicas":1}}""", V1Patch.PatchType.MergePatch), "web", "default");
        await client.AppsV1.DeleteNamespacedDeploymentAsync("web", "default");
        await client.CoreV1.ListNamespacedEventAsync("default");
        await client.EventsV1.ListNamespacedEventAsync("default");

        Assert.Equal(1, server.RequestCount("create", "deployments"));
        Assert.Equal(2, server.RequestCount("get", "deployments"));
        Assert.Equal(1, server.RequestCount("list", "deployments"));
        Assert.Equal(1, server.RequestCount("patch", "deployments/status"));
        Assert.Equal(0, server.RequestCount("patch", "deployments"));
        Assert.Equal(1, server.RequestCount("delete", "deployments", group: "apps"));
        Assert.Equal(2, server.RequestCount("list", "events"));
        Assert.Equal(1, server.RequestCount("list", "events", group: "events.k8s.io"));
        Assert.Equal(8, server.RequestCount("*", "*"));
        Assert.Equal(8, server.RequestCounts.Values.Sum());
    }

    [Fact]
    public async Task Synchronous_dispose_stops_the_server_with_a_watch_open()
    {
        var server = await StartAsync();
        var client = server.CreateClient();
        using var watch = Support.WatchCollector<V1ConfigMap>.Start(client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync("default", watch: true));
        await Eventually.TrueAsync(() => server.OpenWatches == 1, "the watch to open");
        server.Dispose();
        await Eventually.WithinAsync(watch.Closed, "the watch to end when the server stops");
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.CoreV1.ListNamespaceAsync());
        client.Dispose();
    }

    [Fact]
    public async Task Dry_run_validates_without_persisting()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var rv = server.Store.ResourceVersion;
        var dry = await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "default", dryRun: "All");
        Assert.Equal("web", dry.Metadata.Name);
        Assert.Equal(rv, server.Store.ResourceVersion);
        Assert.Empty((await client.AppsV1.ListNamespacedDeploymentAsync("default")).Items);
    }
}

using Fim.Testing;
using System.Net;
using Fim.Testing.KubeApi.Tests.Support;
using k8s;
using k8s.Models;
using static Fim.Testing.KubeApi.Tests.Support.TestServer;

namespace Fim.Testing.KubeApi.Tests;

/// <summary>Finalizers, garbage collection by ownerReferences, namespace deletion.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task Finalizer_keeps_the_object_with_a_deletionTimestamp_until_it_is_removed()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var cm = ConfigMap("guarded");
        cm.Metadata.Finalizers = ["fim.io/cleanup"];
        var created = await client.CoreV1.CreateNamespacedConfigMapAsync(cm, "default");
        using var watch = WatchCollector<V1ConfigMap>.Start(client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync(
            "default", watch: true, resourceVersion: created.Metadata.ResourceVersion));

        await client.CoreV1.DeleteNamespacedConfigMapAsync("guarded", "default");
        var terminating = await client.CoreV1.ReadNamespacedConfigMapAsync("guarded", "default");
        Assert.NotNull(terminating.Metadata.DeletionTimestamp);
        Assert.Equal(["fim.io/cleanup"], terminating.Metadata.Finalizers);
        var marked = await watch.NextAsync();
        Assert.Equal(WatchEventType.Modified, marked.Type);
        Assert.NotNull(marked.Object.Metadata.DeletionTimestamp);

        // No new finalizers while terminating.
        var (code, status) = await FailureOf(() => client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("""{"metadata":{"finalizers":["fim.io/cleanup","late"]}}""", V1Patch.PatchType.MergePatch), "guarded", "default"));
        Assert.Equal((HttpStatusCode)422, code);
        Assert.Contains("metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted", (string?)status["message"]);

        // Other updates still work, and the object stays.
        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"k":"changed"}}""", V1Patch.PatchType.MergePatch), "guarded", "default");
        Assert.Equal(WatchEventType.Modified, (await watch.NextAsync()).Type);

        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "guarded", "default");
        var lastUpdate = await watch.NextAsync();
        var deleted = await watch.NextAsync();
        Assert.Equal(WatchEventType.Modified, lastUpdate.Type);
        Assert.Equal(WatchEventType.Deleted, deleted.Type);
        (code, _) = await FailureOf(() => client.CoreV1.ReadNamespacedConfigMapAsync("guarded", "default"));
        Assert.Equal(HttpStatusCode.NotFound, code);
    }

    [Fact]
    public async Task Background_deletion_cascades_to_dependents_by_ownerReference_uid()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var owner = await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("pool"), "default");
        var child = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("child", owners: [OwnerRef(owner)]), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("grandchild", owners: [OwnerRef(child)]), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("unrelated"), "default");

        await client.AppsV1.DeleteNamespacedDeploymentAsync("pool", "default", propagationPolicy: "Background");

        await Eventually.TrueAsync(async () => (await client.CoreV1.ListNamespacedConfigMapAsync("default")).Items.Count == 1, "dependents to be collected");
        Assert.Equal("unrelated", (await client.CoreV1.ListNamespacedConfigMapAsync("default")).Items.Single().Metadata.Name);
    }

    [Fact]
    public async Task A_dependent_with_another_live_owner_survives_and_loses_the_dangling_reference()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var a = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("owner-a"), "default");
        var b = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("owner-b"), "default");
        var shared = ConfigMap("shared", owners: [OwnerRef(a), OwnerRef(b)]);
        shared.Metadata.OwnerReferences[1].Controller = false;
        await client.CoreV1.CreateNamespacedConfigMapAsync(shared, "default");

        await client.CoreV1.DeleteNamespacedConfigMapAsync("owner-a", "default");
        await Eventually.TrueAsync(
            async () => (await client.CoreV1.ReadNamespacedConfigMapAsync("shared", "default")).Metadata.OwnerReferences.Count == 1,
            "the dangling owner reference to be removed");
        Assert.Equal("owner-b", (await client.CoreV1.ReadNamespacedConfigMapAsync("shared", "default")).Metadata.OwnerReferences.Single().Name);
    }

    [Fact]
    public async Task Foreground_deletion_removes_dependents_first_and_orphan_keeps_them()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var owner = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("owner"), "default");
        var blocker = ConfigMap("blocked-child", owners: [OwnerRef(owner)]);
        blocker.Metadata.Finalizers = ["fim.io/hold"];
        await client.CoreV1.CreateNamespacedConfigMapAsync(blocker, "default");

        await client.CoreV1.DeleteNamespacedConfigMapAsync("owner", "default", propagationPolicy: "Foreground");
        var waiting = await client.CoreV1.ReadNamespacedConfigMapAsync("owner", "default");
        Assert.NotNull(waiting.Metadata.DeletionTimestamp);
        Assert.Contains("foregroundDeletion", waiting.Metadata.Finalizers);
        Assert.NotNull((await client.CoreV1.ReadNamespacedConfigMapAsync("blocked-child", "default")).Metadata.DeletionTimestamp);

        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "blocked-child", "default");
        await Eventually.TrueAsync(async () => (await client.CoreV1.ListNamespacedConfigMapAsync("default")).Items.Count == 0, "owner to go once its dependent is gone");

        var orphanOwner = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("orphan-owner"), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("orphan", owners: [OwnerRef(orphanOwner)]), "default");
        await client.CoreV1.DeleteNamespacedConfigMapAsync("orphan-owner", "default", propagationPolicy: "Orphan");
        await Eventually.TrueAsync(async () => (await client.CoreV1.ListNamespacedConfigMapAsync("default")).Items.Count == 1, "only the orphan to remain");
        var orphan = await client.CoreV1.ReadNamespacedConfigMapAsync("orphan", "default");
        Assert.Null(orphan.Metadata.OwnerReferences);
        Assert.Null(orphan.Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task Deleting_a_namespace_removes_its_content_then_the_namespace()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "team-a" } });
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c"), "team-a");
        await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("d"), "team-a");
        var held = ConfigMap("held");
        held.Metadata.Finalizers = ["fim.io/hold"];
        await client.CoreV1.CreateNamespacedConfigMapAsync(held, "team-a");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("elsewhere"), "default");

        await client.CoreV1.DeleteNamespaceAsync("team-a");
        var ns = await client.CoreV1.ReadNamespaceAsync("team-a");
        Assert.Equal("Terminating", ns.Status.Phase);
        Assert.Empty((await client.AppsV1.ListNamespacedDeploymentAsync("team-a")).Items);

        var (code, status) = await FailureOf(() => client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("late"), "team-a"));
        Assert.Equal(HttpStatusCode.Forbidden, code);
        Assert.Contains("because it is being terminated", (string?)status["message"]);

        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "held", "team-a");
        await Eventually.TrueAsync(async () => (await client.CoreV1.ListNamespaceAsync()).Items.All(n => n.Metadata.Name != "team-a"), "namespace team-a to go");
        Assert.Single((await client.CoreV1.ListNamespacedConfigMapAsync("default")).Items);
    }

    [Fact]
    public async Task Delete_preconditions_are_checked()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c"), "default");
        var (code, status) = await FailureOf(() => client.CoreV1.DeleteNamespacedConfigMapAsync("c", "default",
            new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = "not-the-uid" } }));
        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Contains("Precondition failed: UID in precondition: not-the-uid", (string?)status["message"]);
        var deleted = await client.CoreV1.DeleteNamespacedConfigMapAsync("c", "default");
        Assert.Equal("Success", deleted.Status);
    }
}

using Fim.Testing;
using Fim.Testing.KubeApi.Tests.Support;
using k8s;
using k8s.Models;
using static Fim.Testing.KubeApi.Tests.Support.TestServer;

namespace Fim.Testing.KubeApi.Tests;

/// <summary>The watch protocol as the real KubernetesClient Watcher consumes it.</summary>
public sealed class WatchTests
{
    [Fact]
    public async Task Watch_sees_ADDED_MODIFIED_DELETED_in_order_with_increasing_resourceVersions()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var list = await client.AppsV1.ListNamespacedDeploymentAsync("default");
        using var watch = WatchCollector<V1Deployment>.Start(
            client.AppsV1.ListNamespacedDeploymentWithHttpMessagesAsync("default", watch: true, resourceVersion: list.Metadata.ResourceVersion));

        await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "default");
        await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"spec":{"replicas":3}}""", V1Patch.PatchType.MergePatch), "web", "default");
        await client.AppsV1.DeleteNamespacedDeploymentAsync("web", "default");

        var added = await watch.NextAsync();
        var modified = await watch.NextAsync();
        var deleted = await watch.NextAsync();
        Assert.Equal(WatchEventType.Added, added.Type);
        Assert.Equal(WatchEventType.Modified, modified.Type);
        Assert.Equal(3, modified.Object.Spec.Replicas);
        Assert.Equal(WatchEventType.Deleted, deleted.Type);
        Assert.Equal("web", deleted.Object.Metadata.Name);
        Assert.True(Rv(list) < Rv(added.Object));
        Assert.True(Rv(added.Object) < Rv(modified.Object));
        Assert.True(Rv(modified.Object) < Rv(deleted.Object));
    }

    [Fact]
    public async Task Watch_without_resourceVersion_starts_with_the_current_state()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b"), "default");

        using var watch = WatchCollector<V1ConfigMap>.Start(client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync("default", watch: true));
        var first = await watch.NextAsync();
        var second = await watch.NextAsync();
        Assert.Equal((WatchEventType.Added, "a"), (first.Type, first.Object.Metadata.Name));
        Assert.Equal((WatchEventType.Added, "b"), (second.Type, second.Object.Metadata.Name));

        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c"), "default");
        Assert.Equal("c", (await watch.NextAsync()).Object.Metadata.Name);
    }

    [Fact]
    public async Task Watch_resumed_from_a_resourceVersion_replays_only_later_events()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var a = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b"), "default");
        await client.CoreV1.DeleteNamespacedConfigMapAsync("a", "default");

        using var watch = WatchCollector<V1ConfigMap>.Start(
            client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync("default", watch: true, resourceVersion: a.Metadata.ResourceVersion));
        var b = await watch.NextAsync();
        var gone = await watch.NextAsync();
        Assert.Equal((WatchEventType.Added, "b"), (b.Type, b.Object.Metadata.Name));
        Assert.Equal((WatchEventType.Deleted, "a"), (gone.Type, gone.Object.Metadata.Name));
    }

    [Fact]
    public async Task Bookmarks_arrive_when_allowed()
    {
        await using var server = await StartAsync(o => o.BookmarkInterval = TimeSpan.FromMilliseconds(200));
        using var client = server.CreateClient();
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), "default");
        var list = await client.CoreV1.ListNamespacedConfigMapAsync("default");

        using var watch = WatchCollector<V1ConfigMap>.Start(client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync(
            "default", watch: true, resourceVersion: list.Metadata.ResourceVersion, allowWatchBookmarks: true));
        var bookmark = await watch.NextAsync();
        Assert.Equal(WatchEventType.Bookmark, bookmark.Type);
        Assert.True(Rv(bookmark.Object) >= Rv(list));

        using var noBookmarks = WatchCollector<V1ConfigMap>.Start(client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync(
            "default", watch: true, resourceVersion: list.Metadata.ResourceVersion));
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b"), "default");
        var next = await noBookmarks.NextAsync();
        Assert.Equal((WatchEventType.Added, "b"), (next.Type, next.Object.Metadata.Name));
    }

    [Fact]
    public async Task Watch_from_a_compacted_resourceVersion_gets_410_Gone()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var old = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b"), "default");
        server.CompactHistory();

        using var watch = WatchCollector<V1ConfigMap>.Start(
            client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync("default", watch: true, resourceVersion: old.Metadata.ResourceVersion));
        var error = Assert.IsType<KubernetesException>(await watch.NextErrorAsync());
        Assert.Equal(410, error.Status.Code);
        Assert.Equal("Expired", error.Status.Reason);
        Assert.StartsWith($"too old resource version: {old.Metadata.ResourceVersion} (", error.Status.Message);
        await Eventually.WithinAsync(watch.Closed, "the server to close the expired watch");
        Assert.False(watch.TryTakeEvent(out _));

        // A fresh list gives a resourceVersion that can be watched again.
        var relist = await client.CoreV1.ListNamespacedConfigMapAsync("default");
        using var again = WatchCollector<V1ConfigMap>.Start(
            client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync("default", watch: true, resourceVersion: relist.Metadata.ResourceVersion));
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c"), "default");
        Assert.Equal("c", (await again.NextAsync()).Object.Metadata.Name);
    }

    [Fact]
    public async Task Bounded_history_expires_old_resourceVersions_by_itself()
    {
        await using var server = await StartAsync(o => o.WatchHistoryCapacity = 5);
        using var client = server.CreateClient();
        var first = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cm-0"), "default");
        for (var i = 1; i < 10; i++)
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap($"cm-{i}"), "default");
        }

        using var watch = WatchCollector<V1ConfigMap>.Start(
            client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync("default", watch: true, resourceVersion: first.Metadata.ResourceVersion));
        var error = Assert.IsType<KubernetesException>(await watch.NextErrorAsync());
        Assert.Equal(410, error.Status.Code);
    }

    [Fact]
    public async Task Label_selector_watch_turns_updates_out_of_the_selection_into_DELETED()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var list = await client.CoreV1.ListNamespacedConfigMapAsync("default");
        using var watch = WatchCollector<V1ConfigMap>.Start(client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync(
            "default", watch: true, labelSelector: "tier=front", resourceVersion: list.Metadata.ResourceVersion));

        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("other", new Dictionary<string, string> { ["tier"] = "back" }), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("x", new Dictionary<string, string> { ["tier"] = "front" }), "default");
        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"labels":{"tier":"back"}}}""", V1Patch.PatchType.MergePatch), "x", "default");
        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"labels":{"tier":"front"}}}""", V1Patch.PatchType.MergePatch), "other", "default");

        var e1 = await watch.NextAsync();
        var e2 = await watch.NextAsync();
        var e3 = await watch.NextAsync();
        Assert.Equal((WatchEventType.Added, "x"), (e1.Type, e1.Object.Metadata.Name));
        Assert.Equal((WatchEventType.Deleted, "x"), (e2.Type, e2.Object.Metadata.Name));
        Assert.Equal((WatchEventType.Added, "other"), (e3.Type, e3.Object.Metadata.Name));
    }

    [Fact]
    public async Task TimeoutSeconds_and_CutWatches_end_the_stream()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        using var timed = WatchCollector<V1ConfigMap>.Start(client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync("default", watch: true, timeoutSeconds: 1));
        await Eventually.WithinAsync(timed.Closed, "timeoutSeconds=1 to end the watch");

        using var cut = WatchCollector<V1ConfigMap>.Start(client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync("default", watch: true));
        using var cutToo = WatchCollector<V1Deployment>.Start(client.AppsV1.ListDeploymentForAllNamespacesWithHttpMessagesAsync(watch: true));
        await Eventually.TrueAsync(() => server.OpenWatches == 2, "two open watches");
        Assert.Equal(2, server.CutWatches());
        await Eventually.WithinAsync(cut.Closed, "CutWatches to end the configmap watch");
        await Eventually.WithinAsync(cutToo.Closed, "CutWatches to end the deployment watch");
        Assert.Equal(0, server.OpenWatches);

        using var aborted = WatchCollector<V1ConfigMap>.Start(client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync("default", watch: true));
        await Eventually.TrueAsync(() => server.OpenWatches == 1, "the watch to open");
        server.CutWatches(abortConnections: true);
        await Eventually.WithinAsync(aborted.Closed, "an aborted connection to end the watch");
    }

    [Fact]
    public async Task Watch_across_namespaces_and_with_a_field_selector()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "team-a" } });
        var list = await client.CoreV1.ListConfigMapForAllNamespacesAsync();
        using var all = WatchCollector<V1ConfigMap>.Start(client.CoreV1.ListConfigMapForAllNamespacesWithHttpMessagesAsync(
            watch: true, resourceVersion: list.Metadata.ResourceVersion));
        using var one = WatchCollector<V1ConfigMap>.Start(client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync(
            "team-a", watch: true, fieldSelector: "metadata.name=wanted", resourceVersion: list.Metadata.ResourceVersion));

        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("other"), "team-a");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("wanted"), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("wanted"), "team-a");

        Assert.Equal(("team-a", "other"), Key((await all.NextAsync()).Object));
        Assert.Equal(("default", "wanted"), Key((await all.NextAsync()).Object));
        Assert.Equal(("team-a", "wanted"), Key((await all.NextAsync()).Object));
        Assert.Equal(("team-a", "wanted"), Key((await one.NextAsync()).Object));

        static (string, string) Key(V1ConfigMap c) => (c.Metadata.NamespaceProperty, c.Metadata.Name);
    }

    [Fact]
    public async Task Generic_client_watch_of_a_built_in_kind_works_too()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        using var generic = new GenericClient(client, "", "v1", "configmaps", disposeClient: false);
        using var cts = new CancellationTokenSource(Eventually.DefaultTimeout);
        var events = new List<(WatchEventType, string)>();
        var reader = Task.Run(async () =>
        {
            await foreach (var (type, cm) in generic.WatchNamespacedAsync<V1ConfigMap>("default", cancel: cts.Token))
            {
                events.Add((type, cm.Metadata.Name));
                if (events.Count == 2)
                {
                    return;
                }
            }
        });
        await Eventually.TrueAsync(() => server.OpenWatches == 1, "the generic watch to open");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), "default");
        await client.CoreV1.DeleteNamespacedConfigMapAsync("a", "default");
        await Eventually.WithinAsync(reader, "two events through GenericClient.WatchNamespacedAsync");
        Assert.Equal([(WatchEventType.Added, "a"), (WatchEventType.Deleted, "a")], events);
    }
}

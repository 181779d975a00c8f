using Fim.Testing;
using System.Collections.Concurrent;
using Fim.Operator.Api;
using Fim.Operator.Controllers.Policy;
using Fim.Operator.Runtime;
using Fim.Operator.Tests.Support;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fim.Operator.Tests;

/// <summary>The generic runtime against the API double: watches that die, 410 Gone, conflicts, leader election, no-op reconciles.</summary>
public sealed class RuntimeTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static Informer<FimPolicy, CustomResourceList<FimPolicy>> PolicyInformer(Kubernetes client, InformerOptions? options = null) => new(
        "test",
        (rv, watch, timeout, ct) => client.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<CustomResourceList<FimPolicy>>(
            FimApi.Group, FimApi.Version, FimPolicy.Plural, allowWatchBookmarks: watch ? true : null, resourceVersion: rv, timeoutSeconds: timeout, watch: watch, cancellationToken: ct),
        options ?? new InformerOptions { RetryDelay = TimeSpan.FromMilliseconds(50) },
        NullLogger.Instance);

    private static string? FirstExclude(FimPolicy? p) => p?.Spec.Paths[0].Exclude?.FirstOrDefault();

    [Fact]
    public async Task Informer_misses_no_update_when_watches_are_cut_cleanly_or_reset()
    {
        await using var h = await OperatorHarness.StartAsync();
        var informer = PolicyInformer(h.Client);
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await Eventually.WithinAsync(informer.Synced, "the informer to sync");
        var p = await h.Policies.CreateAsync(Samples.Policy("a"));
        await Eventually.TrueAsync(() => informer.Get("default/a") is not null, "the informer to see a");

        foreach (var abort in new[] { false, true, false, true })
        {
            await Eventually.TrueAsync(() => h.Server.OpenWatches > 0, "a watch to be open");
            var watches = informer.Watches;
            h.Server.CutWatches(abortConnections: abort);
            var current = (await h.Policies.GetAsync<FimPolicy>("a"))!;
            var marker = $"*.v{Guid.NewGuid():N}";
            current.Spec.Paths[0].Exclude = [marker];
            await h.Policies.ReplaceAsync(current);
            await Eventually.TrueAsync(() => FirstExclude(informer.Get("default/a")) == marker, $"the update after a cut (abort={abort})");
            Assert.True(informer.Watches > watches, "the watch was restarted");
        }

        Assert.Equal(1, informer.Lists);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Informer_relists_on_410_Gone_and_reports_what_changed_meanwhile()
    {
        await using var h = await OperatorHarness.StartAsync();
        var informer = PolicyInformer(h.Client, new InformerOptions { RetryDelay = TimeSpan.FromSeconds(3) });
        var deleted = new ConcurrentBag<string>();
        informer.Changed += (type, _, o) =>
        {
            if (type == WatchEventType.Deleted)
            {
                deleted.Add(o.Metadata.Name);
            }
        };
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.Synced;
        await h.Policies.CreateAsync(Samples.Policy("keep"));
        await h.Policies.CreateAsync(Samples.Policy("gone"));
        await Eventually.TrueAsync(() => informer.Get("default/gone") is not null, "both policies in the cache");

        // Reset the watch: the informer waits RetryDelay before watching again from its last resourceVersion,
        // which meanwhile falls out of the (compacted) history: 410 Gone.
        h.Server.CutWatches(abortConnections: true);
        var keep = (await h.Policies.GetAsync<FimPolicy>("keep"))!;
        keep.Spec.Paths[0].Exclude = ["*.changed"];
        await h.Policies.ReplaceAsync(keep);
        await h.Policies.DeleteAsync("gone");
        h.Server.CompactHistory();

        await Eventually.TrueAsync(() => informer.Lists == 2, "a relist after 410 Gone");
        await Eventually.TrueAsync(() => FirstExclude(informer.Get("default/keep")) == "*.changed", "the update made while the watch was gone");
        Assert.Null(informer.Get("default/gone"));
        Assert.Contains("gone", deleted);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Conflicts_are_retried_until_the_status_is_written()
    {
        await using var h = await OperatorHarness.StartAsync();
        h.Server.FailNext("patch", "fimpolicies/status", 409, times: 2, group: "fim.io");
        h.Server.FailNext("patch", "fimpolicies", 409, times: 1, group: "fim.io");
        var store = new MemoryPolicyStore();
        h.StartOperator(store, new MemoryAgentDirectory(), loggers: new TestLoggers(output));
        await h.Policies.CreateAsync(Samples.Policy("p"));
        await Eventually.TrueAsync(async () => (await h.Policies.GetAsync<FimPolicy>("p"))?.Status?.PublishedRevision == 1, "status written despite two 409s");
        Assert.Equal(0, h.Server.PendingFailures);
        Assert.True(h.Server.RequestCount("patch", "fimpolicies/status", "fim.io") >= 3);
        Assert.Contains(PolicyReconciler.Finalizer, (await h.Policies.GetAsync<FimPolicy>("p"))!.Metadata.Finalizers);
        Assert.True(store.Values.ContainsKey("default.p"));
    }

    [Fact]
    public async Task Two_instances_elect_one_leader_and_the_other_takes_over_within_the_lease_duration()
    {
        await using var h = await OperatorHarness.StartAsync();
        var store = new MemoryPolicyStore();
        var agents = new MemoryAgentDirectory();
        var a = h.StartOperator(store, agents, OperatorHarness.FastOptions("a"));
        var b = h.StartOperator(store, agents, OperatorHarness.FastOptions("b"));
        await Eventually.TrueAsync(() => a.IsLeader || b.IsLeader, "a leader");
        var lease = OperatorHarness.FastOptions("x").LeaderElection.LeaseDuration;
        // Letting several renewals pass is the point: the leadership must not move or double while nothing fails.
        var settle = DateTime.UtcNow + (lease * 1.5);
        await Eventually.TrueAsync(() => DateTime.UtcNow > settle, "1.5 lease durations");
        Assert.True(a.IsLeader ^ b.IsLeader, "exactly one leader");
        var (leader, follower) = a.IsLeader ? (a, b) : (b, a);
        Assert.Null(follower.Policies); // only the leader reconciles

        await h.Policies.CreateAsync(Samples.Policy("first"));
        await Eventually.TrueAsync(() => store.Values.ContainsKey("default.first"), "the leader to publish");

        await h.StopOperatorAsync(leader);
        await Eventually.TrueAsync(() => follower.IsLeader, "the follower to take over");
        await h.Policies.CreateAsync(Samples.Policy("second"));
        await Eventually.TrueAsync(() => store.Values.ContainsKey("default.second"), "the new leader to publish");
    }

    [Fact]
    public async Task A_KV_outage_shows_as_Published_False_and_heals_when_NATS_is_back()
    {
        await using var h = await OperatorHarness.StartAsync();
        var store = new MemoryPolicyStore { Failing = true };
        h.StartOperator(store, new MemoryAgentDirectory(), loggers: new TestLoggers(output));
        await h.Policies.CreateAsync(Samples.Policy("p"));
        await Eventually.TrueAsync(async () => Conditions.Find((await h.Policies.GetAsync<FimPolicy>("p"))!.Status?.Conditions, "Published") is { Status: "False", Reason: "KvUnavailable" }, "Published=False while KV fails");
        store.Failing = false;
        await Eventually.TrueAsync(async () => (await h.Policies.GetAsync<FimPolicy>("p"))!.Status is { PublishedRevision: 1 } s && Conditions.IsTrue(s.Conditions, "Published"), "published after the outage");
    }

    [Fact]
    public void Orphaned_KV_keys_are_those_in_scope_without_a_policy()
    {
        var kv = new[] { "default.a", "default.gone", "team.x", "team.y" };
        Assert.Equal(["default.gone", "team.y"], PolicySweeper.Orphans(kv, ["default/a", "team/x"], null));
        Assert.Equal(["team.y"], PolicySweeper.Orphans(kv, ["team/x"], "team"));
    }

    [Fact]
    public async Task KV_entries_whose_policy_went_while_the_operator_was_away_are_removed()
    {
        await using var h = await OperatorHarness.StartAsync();
        var store = new MemoryPolicyStore();
        store.Values["default.gone"] = [1];
        store.Values["team.gone"] = [1];
        await h.Policies.CreateAsync(Samples.Policy("kept"));
        h.StartOperator(store, new MemoryAgentDirectory(), OperatorHarness.FastOptions("scoped") with { Namespace = "default" });
        await Eventually.TrueAsync(() => !store.Values.ContainsKey("default.gone") && store.Values.ContainsKey("default.kept"), "the orphan removed, the live policy published");
        Assert.True(store.Values.ContainsKey("team.gone"), "a namespace-scoped operator leaves other namespaces alone");
    }

    [Fact]
    public async Task Reconciling_500_unchanged_policies_makes_zero_writes()
    {
        const int n = 500;
        await using var h = await OperatorHarness.StartAsync();
        var store = new MemoryPolicyStore();
        var agents = new MemoryAgentDirectory();
        var first = h.StartOperator(store, agents, OperatorHarness.FastOptions("first") with { LeaderElection = new LeaderElectionOptions { Enabled = false } });
        await Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) => await h.Policies.CreateAsync(Samples.Policy($"p{i:D3}")));
        await Eventually.TrueAsync(async () =>
        {
            var list = await h.Client.CustomObjects.ListNamespacedCustomObjectAsync<CustomResourceList<FimPolicy>>(FimApi.Group, FimApi.Version, "default", FimPolicy.Plural);
            return list.Items.Count(p => p.Status?.PublishedRevision == 1) == n;
        }, $"{n} policies published", TimeSpan.FromSeconds(60));
        await h.StopOperatorAsync(first);

        // A fresh instance (as after a restart or failover) reconciles every one of them again: nothing to write.
        h.Server.ResetRequestCounts();
        var puts = store.Puts;
        var second = h.StartOperator(store, agents, OperatorHarness.FastOptions("second") with { LeaderElection = new LeaderElectionOptions { Enabled = false } });
        await Eventually.TrueAsync(() => second.Policies?.Reconciles >= n && second.Policies.Queue.Depth == 0, $"{n} reconciles", TimeSpan.FromSeconds(60));
        var writes = h.Server.RequestCounts.Where(kv => kv.Key.Verb is "create" or "update" or "patch" or "delete").ToList();
        Assert.True(writes.Count == 0, "writes: " + string.Join(", ", writes.Select(w => $"{w.Key.Verb} {w.Key.Resource} x{w.Value}")));
        Assert.Equal(puts, store.Puts);
    }
}

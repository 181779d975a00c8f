using Fim.Contracts;
using Fim.Testing;
namespace Fim.Agent.Tests.Connected;

/// <summary>
/// No event is lost and none is stored twice: NATS down while changes happen, the agent SIGKILLed with a full
/// outbox and restarted, and the outbox cap reached.
/// </summary>
public sealed class DeliveryTests
{
    /// <summary>Every path in <paramref name="paths"/> has exactly one event of <paramref name="kind"/>, and no message id occurs twice.</summary>
    private static void AssertExactlyOnce(List<StreamMessage> events, IEnumerable<string> paths, string kind)
    {
        foreach (var path in paths)
        {
            Assert.Single(events, e => e.Path == path && e.Kind == kind);
        }
        var duplicates = events.GroupBy(e => e.MsgId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Empty(duplicates);
        Assert.All(events, e => Assert.StartsWith(e.EventId + "#", e.MsgId));
    }

    private static List<string> WriteFiles(ConnectedHarness h, string dir, int from, int count) =>
        [.. Enumerable.Range(from, count).Select(i => h.Tree.Write($"{dir}/f{i:D5}.txt", $"content {i}"))];

    [Fact]
    public async Task Changes_made_while_NATS_is_down_are_all_stored_once_it_is_back()
    {
        await using var h = await ConnectedHarness.StartAsync("down");
        h.Tree.Write("etc/seed", "0");
        h.WriteConfig(policyFile: h.WritePolicy("local-etc", h.Tree["etc"]));
        var agent = h.StartAgent();
        agent.AwaitLog("revision 0 applied", ConnectedHarness.Deadline);

        await h.Server.StopAsync();
        var files = WriteFiles(h, "etc", 0, 50);
        await h.AwaitMetricAsync("fim_agent_outbox_depth", v => v >= 50, () => agent.Stderr);
        await h.AwaitMetricAsync("fim_agent_publish_failures_total", v => v >= 1, () => agent.Stderr);

        await h.Server.StartAsync();
        var events = await h.AwaitEventsAsync(es => files.All(f => es.Any(e => e.Path == f)), context: () => agent.Stderr);
        AssertExactlyOnce(events, files, "added");
        await h.AwaitMetricAsync("fim_agent_outbox_depth", v => v == 0, () => agent.Stderr);
    }

    [Fact]
    public async Task An_agent_killed_with_a_full_outbox_delivers_it_after_restart_exactly_once()
    {
        await using var h = await ConnectedHarness.StartAsync("kill");
        h.Tree.Write("etc/seed", "0");
        h.WriteConfig(policyFile: h.WritePolicy("local-etc", h.Tree["etc"]));
        var first = h.StartAgent();
        first.AwaitLog("revision 0 applied", ConnectedHarness.Deadline);

        // 1: the outbox fills while NATS is away, then SIGKILL.
        await h.Server.StopAsync();
        var offline = WriteFiles(h, "etc", 0, 30);
        await h.AwaitMetricAsync("fim_agent_outbox_depth", v => v >= 30, () => first.Stderr);
        first.Kill();
        await h.Server.StartAsync();

        // 2: SIGKILL while publishing a burst (some events acked by JetStream but not yet marked delivered).
        var second = h.StartAgent();
        var afterFirst = await h.AwaitEventsAsync(es => offline.All(f => es.Any(e => e.Path == f)), context: () => second.Stderr);
        AssertExactlyOnce(afterFirst, offline, "added");
        second.AwaitLog("revision 0 applied", ConnectedHarness.Deadline);
        var burst = WriteFiles(h, "etc", 1000, 2000);
        await h.AwaitEventsAsync(es => es.Count > afterFirst.Count, context: () => second.Stderr);
        second.Kill();

        var third = h.StartAgent();
        var all = await h.AwaitEventsAsync(es => burst.All(f => es.Any(e => e.Path == f)), TimeSpan.FromSeconds(40), () => third.Stderr);
        AssertExactlyOnce(all, [.. offline, .. burst], "added");
        await h.AwaitMetricAsync("fim_agent_outbox_depth", v => v == 0, () => third.Stderr);
    }

    [Fact]
    public async Task A_full_outbox_stops_the_baseline_and_a_rescan_reports_what_it_held_back()
    {
        await using var h = await ConnectedHarness.StartAsync("cap");
        h.Tree.Write("etc/seed", "0");
        h.WriteConfig(policyFile: h.WritePolicy("local-etc", h.Tree["etc"]), extra: "outboxMaxEvents: 5");
        var agent = h.StartAgent();
        agent.AwaitLog("revision 0 applied", ConnectedHarness.Deadline);

        await h.Server.StopAsync();
        var accepted = WriteFiles(h, "etc", 0, 6);
        await h.AwaitMetricAsync("fim_agent_outbox_depth", v => v >= 5, () => agent.Stderr);
        var heldBack = WriteFiles(h, "etc", 100, 10);
        await h.AwaitMetricAsync("fim_agent_outbox_overflows_total", v => v >= 1, () => agent.Stderr);
        agent.AwaitLog("the outbox is full", ConnectedHarness.Deadline);
        // The outbox holds only what it accepted; the rest waits on disk, not in memory.
        var depth = await h.MetricAsync("fim_agent_outbox_depth");
        Assert.True(depth is >= 5 and < 16, $"outbox depth {depth}");

        await h.Server.StartAsync();
        var events = await h.AwaitEventsAsync(es => heldBack.All(f => es.Any(e => e.Path == f)), context: () => agent.Stderr);
        AssertExactlyOnce(events, [.. accepted, .. heldBack], "added");
        var held = events.Where(e => heldBack.Contains(e.Path)).ToList();
        Assert.All(held, e => Assert.Equal("scan", e.Body.GetProperty("source").GetString()));
        var hb = await h.AwaitHeartbeatAsync(x => !x.Outbox.Overflowing, () => agent.Stderr);
        Assert.True(hb.Outbox.Overflows >= 1);
    }

    [Fact]
    public async Task Events_wait_until_the_managers_create_FIM_EVENTS()
    {
        await using var h = await ConnectedHarness.StartAsync("nostream", createStreams: false);
        h.Tree.Write("etc/a", "1");
        h.WriteConfig(policyFile: h.WritePolicy("local-etc", h.Tree["etc"]));
        var agent = h.StartAgent();
        agent.AwaitLog("revision 0 applied", ConnectedHarness.Deadline);

        File.WriteAllText(h.Tree["etc/a"], "2");
        await h.AwaitMetricAsync("fim_agent_publish_failures_total", v => v >= 2, () => agent.Stderr);
        // The event, and the startup scan's record (FIM_SCANS does not exist either).
        Assert.Equal(2, await h.MetricAsync("fim_agent_outbox_depth"));

        await h.CreateStreamsAsync();
        var events = await h.AwaitEventsAsync(es => es.Any(e => e.Path == h.Tree["etc/a"]), context: () => agent.Stderr);
        AssertExactlyOnce(events, [h.Tree["etc/a"]], "modified");
        // The heartbeat and the policy watch recover as well once their buckets exist, and the scan record goes out.
        await h.AwaitHeartbeatAsync(hb => hb.AppliedPolicies.ContainsKey("local-etc"), () => agent.Stderr);
        await Eventually.TrueAsync(async () => (await h.Js.GetStreamAsync(Subjects.ScansStream)).Info.State.Messages == 1, () => "the scan record published\n" + agent.Stderr);
    }
}

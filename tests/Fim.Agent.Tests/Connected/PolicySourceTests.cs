using Fim.Contracts;
using System.Text.Json;

namespace Fim.Agent.Tests.Connected;

/// <summary>Policies from KV fim-policies applied live by the real agent: selected, updated, ignored, deleted, invalid.</summary>
public sealed class PolicySourceTests
{
    private static object Spec(params string[] paths) => new { paths = paths.Select(p => new { path = p }).ToArray() };

    private static bool Applied(Heartbeat hb, string name, long revision) =>
        hb.AppliedPolicies.TryGetValue(name, out var r) && r == revision;

    [Fact]
    public async Task A_policy_in_KV_is_applied_updated_ignored_and_removed_without_restart()
    {
        await using var h = await ConnectedHarness.StartAsync("kv");
        h.Tree.Write("web/index.html", "v1");
        h.Tree.Write("other/x.txt", "x");
        h.WriteConfig(labels: "{ role: web, zone: a }");
        var agent = h.StartAgent();

        // Selects role=web (matchLabels in the spec) and zone In [a, b] (matchExpressions): applied.
        await h.PutPolicyAsync("prod.web", 1, "prod/web", Spec(h.Tree["web"]),
            selector: new { matchLabels = new { role = "web" }, matchExpressions = new[] { new { key = "zone", @operator = "In", values = new[] { "a", "b" } } } });
        // Selects role=db: ignored.
        await h.PutPolicyAsync("prod.db", 1, "prod/db", new { selector = new { role = "db" }, paths = new[] { new { path = h.Tree["other"] } } });
        await h.AwaitHeartbeatAsync(hb => Applied(hb, "prod/web", 1), () => agent.Stderr);

        File.WriteAllText(h.Tree["web/index.html"], "v2");
        File.WriteAllText(h.Tree["other/x.txt"], "changed");
        await h.AwaitEventsAsync(es => es.Any(e => e.Path == h.Tree["web/index.html"]), context: () => agent.Stderr);

        // Revision 2 adds a path: the new root is recorded quietly, then watched.
        await h.PutPolicyAsync("prod.web", 2, "prod/web", Spec(h.Tree["web"], h.Tree["other"]), selector: new { matchLabels = new { role = "web" } });
        var hb2 = await h.AwaitHeartbeatAsync(hb => Applied(hb, "prod/web", 2), () => agent.Stderr);
        Assert.False(hb2.AppliedPolicies.ContainsKey("prod/db"));
        File.WriteAllText(h.Tree["other/x.txt"], "changed again");
        var events = await h.AwaitEventsAsync(es => es.Any(e => e.Path == h.Tree["other/x.txt"]), context: () => agent.Stderr);
        var other = Assert.Single(events, e => e.Path == h.Tree["other/x.txt"]);
        Assert.Equal("prod/web", other.Body.GetProperty("policy").GetString());
        Assert.DoesNotContain(events, e => e.Path == h.Tree["other"] || e.Kind == "added");

        // Deleted: monitoring stops, a later change makes no event.
        await h.DeletePolicyAsync("prod.web");
        await h.AwaitHeartbeatAsync(hb => hb.AppliedPolicies.Count == 0, () => agent.Stderr);
        var before = (await h.ReadEventsAsync()).Count;
        File.WriteAllText(h.Tree["web/index.html"], "v3 after delete");
        // A policy still running on the other path proves the agent is alive and would have published by now.
        h.Tree.Write("canary/c.txt", "1");
        await h.PutPolicyAsync("prod.canary", 1, "prod/canary", Spec(h.Tree["canary"]));
        await h.AwaitHeartbeatAsync(hb => Applied(hb, "prod/canary", 1), () => agent.Stderr);
        File.WriteAllText(h.Tree["canary/c.txt"], "2");
        var after = await h.AwaitEventsAsync(es => es.Any(e => e.Path == h.Tree["canary/c.txt"]), context: () => agent.Stderr);
        Assert.Equal(before + 1, after.Count);
    }

    [Fact]
    public async Task An_invalid_policy_is_reported_in_the_heartbeat_and_the_agent_keeps_running()
    {
        await using var h = await ConnectedHarness.StartAsync("kvbad");
        h.Tree.Write("web/a", "1");
        h.WriteConfig();
        var agent = h.StartAgent();
        await h.PutPolicyAsync("prod.web", 1, "prod/web", Spec(h.Tree["web"]));
        await h.AwaitHeartbeatAsync(hb => Applied(hb, "prod/web", 1), () => agent.Stderr);

        await h.PutRawPolicyAsync("prod.broken", "{ not json");
        await h.PutPolicyAsync("prod.web", 2, "prod/web", new { paths = new[] { new { path = "relative/path" } } });
        await h.PutPolicyAsync("prod.nopaths", 1, "prod/nopaths", new { paths = Array.Empty<object>() });

        var hb = await h.AwaitHeartbeatAsync(hb => hb.PolicyErrors.Count >= 3, () => agent.Stderr);
        Assert.Contains("not valid JSON", hb.PolicyErrors["prod.broken"]);
        Assert.Contains("revision 2 is invalid", hb.PolicyErrors["prod/web"]);
        Assert.Contains("paths", hb.PolicyErrors["prod/nopaths"]);
        // Revision 1 keeps running.
        Assert.Equal(1, hb.AppliedPolicies["prod/web"]);
        File.WriteAllText(h.Tree["web/a"], "2");
        await h.AwaitEventsAsync(es => es.Any(e => e.Path == h.Tree["web/a"]), context: () => agent.Stderr);
        await h.AwaitMetricAsync("fim_agent_policy_errors_total", v => v >= 3);
        Assert.False(agent.HasExited);
    }
}

using Fim.Contracts;
using System.Text.Json;

namespace Fim.Agent.Tests.Connected;

/// <summary>The heartbeat in KV fim-agents and the request/reply commands on fim.agent.&lt;id&gt;.cmd, against the real agent.</summary>
public sealed class HeartbeatAndCommandTests
{
    [Fact]
    public async Task The_heartbeat_carries_identity_policies_scan_digest_and_outbox()
    {
        await using var h = await ConnectedHarness.StartAsync("hb");
        h.Tree.Write("etc/a.conf", "1");
        h.Tree.Write("etc/b.conf", "2");
        h.WriteConfig(policyFile: h.WritePolicy("local-etc", h.Tree["etc"]), labels: "{ role: web, zone: eu-1a }");
        var agent = h.StartAgent();

        // The startup scan's record passes through the outbox: awaited until JetStream has it.
        var hb = await h.AwaitHeartbeatAsync(x => x.LastScan is not null && x.AppliedPolicies.ContainsKey("local-etc") && x.Outbox.Depth == 0, () => agent.Stderr);
        Assert.Equal(1, hb.SchemaVersion);
        Assert.Equal("agent-a", hb.AgentId);
        Assert.Equal(Environment.MachineName, hb.Hostname);
        Assert.False(string.IsNullOrEmpty(hb.Version));
        Assert.Equal("web", hb.Labels["role"]);
        Assert.Equal("eu-1a", hb.Labels["zone"]);
        Assert.Equal(0, hb.AppliedPolicies["local-etc"]);
        var scan = hb.LastScan!;
        Assert.Equal("startup", scan.Reason);
        Assert.Equal(3, scan.Entries); // the directory and two files
        Assert.True(scan.DurationMs >= 0);
        Assert.Matches("^[0-9a-f]{64}$", hb.BaselineDigest);
        Assert.Equal(0, hb.Outbox.Depth);
        Assert.False(hb.Outbox.Overflowing);
        Assert.True(DateTimeOffset.UtcNow - hb.Time < TimeSpan.FromMinutes(1));

        // The digest follows the baseline.
        var digest = hb.BaselineDigest;
        File.WriteAllText(h.Tree["etc/a.conf"], "changed");
        await h.AwaitHeartbeatAsync(x => x.BaselineDigest != digest, () => agent.Stderr);
    }

    [Fact]
    public async Task Commands_scan_state_unknown_and_malformed_are_answered()
    {
        await using var h = await ConnectedHarness.StartAsync("cmd");
        h.Tree.Write("etc/passwd", "root:x:0:0\n");
        h.WriteConfig(policyFile: h.WritePolicy("local-etc", h.Tree["etc"]));
        var agent = h.StartAgent();
        agent.AwaitLog("revision 0 applied", ConnectedHarness.Deadline);

        var state = await h.CommandAsync($$"""{"command":"state","path":"{{h.Tree["etc/passwd"]}}"}""");
        Assert.True(state.GetProperty("ok").GetBoolean(), state.ToString());
        Assert.Equal("local-etc", state.GetProperty("policy").GetString());
        Assert.Equal("file", state.GetProperty("state").GetProperty("type").GetString());
        Assert.Equal(11, state.GetProperty("state").GetProperty("size").GetInt64());
        Assert.Matches("^[0-9a-f]{64}$", state.GetProperty("state").GetProperty("sha256").GetString());

        var missing = await h.CommandAsync("""{"command":"state","path":"/nowhere/at/all"}""");
        Assert.False(missing.GetProperty("ok").GetBoolean());
        Assert.Equal("not monitored", missing.GetProperty("error").GetString());

        var scan = await h.CommandAsync("""{"command":"scan"}""");
        Assert.True(scan.GetProperty("ok").GetBoolean(), scan.ToString());
        Assert.Equal(["local-etc"], scan.GetProperty("started").EnumerateArray().Select(x => x.GetString()));
        await h.AwaitHeartbeatAsync(x => x.LastScan?.Reason == "command", () => agent.Stderr);

        var unknown = await h.CommandAsync("""{"command":"reboot"}""");
        Assert.False(unknown.GetProperty("ok").GetBoolean());
        Assert.Equal("unknown command 'reboot'", unknown.GetProperty("error").GetString());

        foreach (var bad in new[] { "{ nope", "[1,2]", "{\"command\":42}", "" })
        {
            var reply = await h.CommandAsync(bad);
            Assert.False(reply.GetProperty("ok").GetBoolean(), bad);
            Assert.False(string.IsNullOrEmpty(reply.GetProperty("error").GetString()));
        }
        // Still answering after the garbage.
        Assert.True((await h.CommandAsync("""{"command":"scan"}""")).GetProperty("ok").GetBoolean());
        Assert.False(agent.HasExited);
    }
}

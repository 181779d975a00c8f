using Fim.Contracts;
using System.Text.RegularExpressions;

namespace Fim.Agent.Tests.Connected;

/// <summary>The real agent process publishing to a real nats-server: a change on disk becomes one stored event.</summary>
public sealed partial class EventPipelineTests
{
    [Fact]
    public async Task A_file_change_becomes_an_event_in_FIM_EVENTS_with_msg_id_and_traceparent()
    {
        await using var h = await ConnectedHarness.StartAsync("pipe");
        h.Tree.Write("etc/app.conf", "a=1\n");
        h.WriteConfig(policyFile: h.WritePolicy("local-etc", h.Tree["etc"]));
        var agent = h.StartAgent();
        agent.AwaitLog("revision 0 applied", ConnectedHarness.Deadline);

        File.WriteAllText(h.Tree["etc/app.conf"], "a=2\n");

        var events = await h.AwaitEventsAsync(es => es.Any(e => e.Path == h.Tree["etc/app.conf"]), context: () => agent.Stderr);
        var e = Assert.Single(events, x => x.Path == h.Tree["etc/app.conf"]);
        Assert.Equal("fim.events.agent-a", e.Subject);
        Assert.Equal("modified", e.Kind);
        Assert.Equal("realtime", e.Body.GetProperty("source").GetString());
        Assert.Equal("local-etc", e.Body.GetProperty("policy").GetString());
        Assert.Equal("agent-a", e.Body.GetProperty("agentId").GetString());
        Assert.True(e.Body.TryGetProperty("publishedAt", out _));
        Assert.Matches(MsgIdPattern(), e.MsgId);
        // The event id plus the digest of its content (without publishedAt): a guessed id cannot shadow it.
        Assert.Equal(EventContent.MessageId(e.EventId, EventContent.Digest(EventContent.SigningInput(System.Text.Encoding.UTF8.GetBytes(e.Body.GetRawText())))), e.MsgId);
        Assert.Matches(TraceParentPattern(), e.TraceParent);
    }

    [Fact]
    public async Task Under_a_host_root_the_policy_names_host_paths_and_events_report_them_without_the_mount()
    {
        await using var h = await ConnectedHarness.StartAsync("hostroot");
        // The tree plays the node's file system as a DaemonSet sees it under /host: the policy says /etc.
        h.Tree.Write("etc/ssh/sshd_config", "PermitRootLogin no\n");
        h.WriteConfig(policyFile: h.WritePolicy("node-etc", "/etc"), extra: $"hostRoot: {h.Tree.Tree}");
        var agent = h.StartAgent();
        agent.AwaitLog("revision 0 applied", ConnectedHarness.Deadline);

        File.WriteAllText(h.Tree["etc/ssh/sshd_config"], "PermitRootLogin yes\n");

        var events = await h.AwaitEventsAsync(es => es.Any(e => e.Path == "/etc/ssh/sshd_config"), context: () => agent.Stderr);
        Assert.Equal("modified", Assert.Single(events, x => x.Path == "/etc/ssh/sshd_config").Kind);
        Assert.DoesNotContain(events, e => e.Path.StartsWith(h.Tree.Tree, StringComparison.Ordinal));
    }

    [GeneratedRegex("^agent-a:[0-9a-f]{17}:[0-9]+#[0-9a-f]{64}$")]
    private static partial Regex MsgIdPattern();

    [GeneratedRegex("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$")]
    private static partial Regex TraceParentPattern();
}

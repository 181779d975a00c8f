using System.Text.Json;
using Fim.Contracts;
using Fim.Testing;

namespace Fim.Agent.Tests.Connected;

/// <summary>The real agent on a real nats-server: every completed scan becomes a scan record in FIM_SCANS with true counts.</summary>
public sealed class ScanRecordTests
{
    private static async Task<List<ScanRecord>> ScansAsync(ConnectedHarness h) =>
        [.. (await StreamContents.ReadAllAsync(h.Js, Subjects.ScansStream, ConnectedHarness.Deadline))
            .Select(m => JsonSerializer.Deserialize(m.Body.GetRawText(), ContractJson.Default.ScanRecord)!)];

    [Fact]
    public async Task Scans_publish_records_with_true_counts_to_the_agent_s_own_subject_and_outlast_a_NATS_outage()
    {
        await using var h = await ConnectedHarness.StartAsync("scanrec");
        h.Tree.Write("etc/a.conf", "1");
        h.Tree.Write("etc/b.conf", "2");
        h.Tree.Write("etc/sub/c.conf", "3");
        h.WriteConfig(policyFile: h.WritePolicy("local-etc", h.Tree["etc"]), labels: "{ role: web }");
        var agent = h.StartAgent();
        agent.AwaitLog("revision 0 applied", ConnectedHarness.Deadline);

        ScanRecord first = null!;
        await Eventually.TrueAsync(async () => (first = (await ScansAsync(h)).FirstOrDefault()!) is not null, () => "the startup scan's record\n" + agent.Stderr);
        Assert.Equal("agent-a", first.AgentId);
        Assert.Equal(Environment.MachineName, first.Host);
        Assert.Equal("web", first.Labels["role"]);
        Assert.Equal("local-etc", first.Policy);
        Assert.Equal("startup", first.Trigger);
        Assert.Equal(3, first.Files);
        Assert.Equal(2, first.Directories); // etc and etc/sub
        Assert.Equal(3, first.BytesHashed);
        Assert.Equal(ScanRecord.ResultClean, first.Result);
        Assert.Equal((0, 0, 0, 0), (first.Added, first.Changed, first.Removed, first.Errors));
        Assert.Matches("^[0-9a-f]{64}$", first.BaselineDigest);
        Assert.True(first.FinishedAt >= first.StartedAt);
        Assert.True(first.ScheduleSeconds > 0);
        var messages = await StreamContents.ReadAllAsync(h.Js, Subjects.ScansStream, ConnectedHarness.Deadline);
        Assert.Equal(Subjects.Scans("agent-a"), messages[0].Subject);
        Assert.Equal(ScanRecord.MessageIdPrefix + first.ScanId, messages[0].MsgId);

        // Stopped, three changes happen; the agent's startup scan finds them, while NATS is away, and the record waits in the outbox.
        agent.Dispose();
        File.WriteAllText(h.Tree["etc/a.conf"], "changed");
        File.Delete(h.Tree["etc/b.conf"]);
        h.Tree.Write("etc/sub/new.conf", "12345");
        await h.Server.StopAsync();
        agent = h.StartAgent();
        agent.AwaitLog(" changes in ", ConnectedHarness.Deadline); // the startup scan's log line
        await h.Server.StartAsync();

        ScanRecord second = null!;
        await Eventually.TrueAsync(async () => (second = (await ScansAsync(h)).Skip(1).FirstOrDefault()!) is not null,
            () => "the second startup scan's record\n" + agent.Stderr);
        Assert.Equal("startup", second.Trigger);
        Assert.Equal((1, 1, 0), (second.Added, second.Removed, second.Errors));
        // The counts are the events the scan reported: b.conf deleted, new.conf added, a.conf (and the directories whose entries changed) modified.
        var total = second.Added + second.Changed + second.Removed;
        var events = await h.AwaitEventsAsync(es => es.Count >= total, context: () => agent.Stderr);
        Assert.Equal(total, events.Count);
        Assert.Equal(second.Changed, events.Count(e => e.Kind is not ("added" or "deleted")));
        Assert.Contains(events, e => e.Kind == "modified" && e.Path == h.Tree["etc/a.conf"]);
        Assert.Equal(12, second.BytesHashed); // a.conf (7 bytes) and new.conf (5): unchanged c.conf's hash is reused
        Assert.Equal(ScanRecord.ResultChanged, second.Result);
        Assert.Equal(3, second.Files);
        Assert.NotEqual(first.BaselineDigest, second.BaselineDigest);
        Assert.NotEqual(first.ScanId, second.ScanId);

        // A requested scan: clean, named for the command.
        await h.CommandAsync("""{"command":"scan"}""");
        ScanRecord third = null!;
        await Eventually.TrueAsync(async () => (third = (await ScansAsync(h)).FirstOrDefault(s => s.Trigger == "command")!) is not null,
            () => "the command scan's record\n" + agent.Stderr);
        Assert.Equal(ScanRecord.ResultClean, third.Result);
        Assert.Equal(3, third.Files);
    }
}

using System.Text.Json;
using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Controllers.NodeStatus;
using Fim.Operator.Crds;
using Fim.Operator.Nats;
using Fim.Operator.Tests.Support;
using Fim.Testing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Fim.Operator.Tests;

/// <summary>
/// Issue 18, acceptance 1, 2 and 4: three real agents on a real nats-server, the operator against the API double, the
/// user's view through the real kubectl: per-node status, re-baseline by annotation, Events.
/// </summary>
[Collection(Serial.Name)]
public sealed class NodeStatusTests(ITestOutputHelper output)
{
    private static readonly string[] Nodes = ["node-a", "node-b", "node-c"];
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Kubectl_shows_the_changed_node_and_rebaseline_failed_resets_only_that_node_with_events_and_who_asked()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CrdGenerator.NodeStatus());
        await using var kv = await NatsKv.StartAsync();
        var nodeUids = new Dictionary<string, string>();
        foreach (var node in Nodes)
        {
            var created = await h.Client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = node, Labels = new Dictionary<string, string> { ["fim.io/profile"] = "pci" } } });
            nodeUids[node] = created.Metadata.Uid;
        }

        // The managers' counts of unreviewed high-level alerts, as they write them (here by hand: one for node-b).
        var unreviewedBucket = await NatsBuckets.OpenAsync(kv.Connection, Subjects.UnreviewedAlertsBucket, CancellationToken.None);
        var unreviewed = new NatsUnreviewedAlerts(() => unreviewedBucket, NullLogger.Instance);
        using var stopUnreviewed = new CancellationTokenSource();
        var watchUnreviewed = unreviewed.RunAsync(stopUnreviewed.Token);

        var options = OperatorHarness.FastOptions("op-nodestatus") with { };
        h.StartOperator(kv.PolicyStore, kv.Agents, options, new TestLoggers(output),
            new NodeStatusSetup(new NatsRebaseliner(() => kv.Connection), new NodeStatusOptions { Coalesce = TimeSpan.FromMilliseconds(200) }, unreviewed));
        using var kubectl = Kubectl.For(h.Server.WriteKubeconfig);
        var work = Directory.CreateTempSubdirectory("fim-nodestatus-");
        var agents = new List<ChildProcess>();
        try
        {
            foreach (var node in Nodes)
            {
                // Each agent sees its own "host" under hostRoot: the policy names /etc/app on every node.
                var root = Path.Combine(work.FullName, node);
                var app = Directory.CreateDirectory(Path.Combine(root, "etc", "app")).FullName;
                File.WriteAllText(Path.Combine(app, "app.conf"), "a=1\n");
                File.WriteAllText(Path.Combine(app, "keys.conf"), "k=1\n");
                var config = Path.Combine(work.FullName, node + ".yaml");
                File.WriteAllText(config, $"""
                    agentId: {node}
                    labels:
                      fim.io/profile: pci
                    nats:
                      url: {kv.Server.Url}
                    hostRoot: {root}
                    stateDir: {Path.Combine(work.FullName, "state-" + node)}
                    keyFile: {Path.Combine(work.FullName, "keys-" + node, "baseline.key")}
                    heartbeatInterval: 2s
                    packages:
                      enabled: false
                    """);
                agents.Add(ChildProcess.Agent(["run", "--config", config]));
            }

            await h.Policies.CreateAsync(Samples.Policy("pci", path: "/etc/app", matchLabels: new() { ["fim.io/profile"] = "pci" }));
            var text = "";
            await Eventually.TrueAsync(async () => Rows(text = await kubectl.OkAsync("get", "fimnodestatuses")).Count(r => r is { Result: "clean", Unreviewed: "0" }) == 3,
                () => $"three clean nodes in:\n{text}\n{string.Join("\n", agents.Select(a => a.Output))}", Deadline);
            output.WriteLine(text);
            Assert.Matches(@"^NAME\s+NODE\s+POLICY\s+RESULT\s+ADDED\s+CHANGED\s+REMOVED\s+UNREVIEWED\s+LAST-SCAN\s+AGE$", text.Trim().Split('\n')[0].Trim());

            // A manager counted two unreviewed high-level alerts of node-b: its status says so, the others stay at zero.
            await unreviewedBucket.PutAsync("node-b", ContractJson.ToUtf8(new UnreviewedAlerts { AgentId = "node-b", MinLevel = UnreviewedAlerts.HighLevel, Count = 2, CountedAt = DateTimeOffset.UtcNow }));
            await Eventually.TrueAsync(async () => Rows(text = await kubectl.OkAsync("get", "fimnodestatuses")).Single(r => r.Node == "node-b").Unreviewed == "2",
                () => $"node-b with 2 unreviewed alerts in:\n{text}", Deadline);
            Assert.All(Rows(text).Where(r => r.Node != "node-b"), r => Assert.Equal("0", r.Unreviewed));
            await unreviewedBucket.DeleteAsync("node-b"); // all reviewed: the manager deletes the key
            await Eventually.TrueAsync(async () => Rows(text = await kubectl.OkAsync("get", "fimnodestatuses")).All(r => r.Unreviewed == "0"),
                () => $"node-b back to 0 unreviewed alerts in:\n{text}", Deadline);

            // Owned by the policy and by the node.
            var b = (await StatusAsync(h, "pci.node-b"))!;
            Assert.Contains(b.Metadata.OwnerReferences, o => o.Kind == "FimPolicy" && o.Name == "pci" && o.Controller == true);
            Assert.Contains(b.Metadata.OwnerReferences, o => o.Kind == "Node" && o.Uid == nodeUids["node-b"]);
            var aAccepted = (await StatusAsync(h, "pci.node-a"))!.Status!.BaselineAcceptedAt;

            // A change on node-b only: one file added, one changed. The agent also reports the directory, whose mtime the
            // new entry moved: 1 added (backdoor.conf), 2 changed (app.conf and /etc/app itself).
            var bApp = Path.Combine(work.FullName, "node-b", "etc", "app");
            File.WriteAllText(Path.Combine(bApp, "backdoor.conf"), "x=1\n");
            File.AppendAllText(Path.Combine(bApp, "app.conf"), "b=2\n");
            await Eventually.TrueAsync(async () => Rows(text = await kubectl.OkAsync("get", "fimnodestatuses")).Any(r => r is { Node: "node-b", Result: "changed", Added: "1", Changed: "2", Removed: "0" }),
                () => $"node-b changed (1 added, 2 changed) in:\n{text}", Deadline);
            output.WriteLine(text);
            var rows = Rows(text);
            Assert.Equal(3, rows.Count);
            Assert.All(rows.Where(r => r.Node != "node-b"), r => Assert.Equal(("clean", "0", "0", "0"), (r.Result, r.Added, r.Changed, r.Removed)));

            // Acceptance 4: Events with the documented reasons, on the policy and on the node.
            await Eventually.TrueAsync(async () => (text = await kubectl.OkAsync("get", "events", "-A", "-o", "json")).Contains("IntegrityChanged"), () => "an IntegrityChanged event", Deadline);
            var events = Events(text);
            Assert.Contains(events, e => e is { Reason: "IntegrityChanged", Kind: "FimPolicy", Name: "pci", Type: "Warning" } && e.Message.Contains("node node-b") && e.Message.Contains("1 added, 2 changed, 0 removed"));
            Assert.Contains(events, e => e is { Reason: "IntegrityChanged", Kind: "Node", Name: "node-b" });
            Assert.DoesNotContain(events, e => e.Reason == "IntegrityChanged" && e.Message.Contains("node-a"));
            text = await kubectl.OkAsync("get", "events");
            output.WriteLine(text);
            Assert.Matches(@"^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$", text.Trim().Split('\n')[0].Trim());
            Assert.Matches(@"\n\S+\s+Warning\s+IntegrityChanged\s+fimpolicy/pci\s+node node-b, policy default/pci: 1 added, 2 changed, 0 removed", text);
            text = await kubectl.OkAsync("events", "--for", "node/node-b", "-A");
            output.WriteLine(text);
            Assert.Contains("IntegrityChanged", text);

            // Acceptance 2: only the failed node re-baselines; the annotation is cleared; the policy status counts it.
            text = await kubectl.OkAsync("annotate", "fimpolicy", "pci", "fim.io/rebaseline=failed");
            output.WriteLine(text);
            FimPolicy? policy = null;
            await Eventually.TrueAsync(async () => (policy = await h.Policies.GetAsync<FimPolicy>("pci"))!.Status?.LastRebaseline is { Selection: "failed" }
                && policy.Metadata.Annotations?.ContainsKey("fim.io/rebaseline") != true, () => $"the annotation carried out and cleared: {JsonSerializer.Serialize(policy?.Status)}", Deadline);
            var done = policy!.Status!.LastRebaseline!;
            Assert.Equal((1, 1), (done.Selected, done.Rebaselined));
            Assert.Empty(done.Failed ?? []);
            Assert.Equal("kubectl-annotate (Update)", done.RequestedBy); // from the annotation's managedFields entry

            await Eventually.TrueAsync(async () => Rows(text = await kubectl.OkAsync("get", "fimnodestatuses")).All(r => r is { Result: "clean", Added: "0", Changed: "0", Removed: "0" }),
                () => $"every node clean again in:\n{text}", Deadline);
            output.WriteLine(text);
            var rebaselinedB = (await StatusAsync(h, "pci.node-b"))!.Status!;
            Assert.Equal(done.RequestedBy, rebaselinedB.BaselineAcceptedBy);
            // The others were not re-baselined: their accepted baseline is the first one, accepted by nobody.
            var a = (await StatusAsync(h, "pci.node-a"))!.Status!;
            Assert.Equal((aAccepted, (string?)null), (a.BaselineAcceptedAt, a.BaselineAcceptedBy));

            // The audit record: an Event on the policy naming who asked and which node, and the restored integrity.
            await Eventually.TrueAsync(async () => Events(text = await kubectl.OkAsync("get", "events", "-A", "-o", "json")).Any(e => e.Reason == "IntegrityRestored" && e.Name == "pci"),
                () => "an IntegrityRestored event", Deadline);
            events = Events(text);
            var audit = Assert.Single(events, e => e.Reason == "Rebaselined" && e.Kind == "FimPolicy");
            output.WriteLine(audit.Message);
            Assert.Contains("1 of 1 nodes re-baselined (node-b) at the request of " + done.RequestedBy, audit.Message);
            Assert.Contains("fim.io/rebaseline=\"failed\"", audit.Message);
            Assert.Contains(events, e => e is { Reason: "Rebaselined", Kind: "Node", Name: "node-b" });
            Assert.DoesNotContain(events, e => e is { Reason: "Rebaselined", Kind: "Node" } && e.Name != "node-b");

            // Nothing changing: no further writes of the statuses.
            h.OperatorRequests.Seen.TryGetValue(("patch", "fim.io", "fimnodestatuses"), out var before);
            await Task.Delay(TimeSpan.FromSeconds(6)); // three heartbeats of each agent
            h.OperatorRequests.Seen.TryGetValue(("patch", "fim.io", "fimnodestatuses"), out var after);
            Assert.Equal(before, after);
            Assert.DoesNotContain(h.OperatorRequests.Seen.Keys, k => !OperatorPermissions.Allows(k.Verb, k.Group, k.Resource));

            // A deleted node takes its status with it.
            await h.Client.CoreV1.DeleteNodeAsync("node-c");
            await Eventually.TrueAsync(async () => await StatusAsync(h, "pci.node-c") is null, "node-c's status deleted with the node", Deadline);
        }
        finally
        {
            foreach (var agent in agents)
            {
                agent.Dispose();
            }

            work.Delete(recursive: true);
            await stopUnreviewed.CancelAsync();
            await watchUnreviewed.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static async Task<FimNodeStatus?> StatusAsync(OperatorHarness h, string name) =>
        await new GenericResources(h.Client, FimNodeStatus.Plural).GetAsync<FimNodeStatus>(name);

    private sealed record Row(string Name, string Node, string Policy, string Result, string Added, string Changed, string Removed, string Unreviewed);

    private static List<Row> Rows(string table) => [.. table.Trim().Split('\n').Skip(1)
        .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Where(c => c.Length >= 8)
        .Select(c => new Row(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]))];

    private sealed record Ev(string Reason, string Kind, string Name, string Type, string Message);

    private static List<Ev> Events(string json) => [.. JsonDocument.Parse(json).RootElement.GetProperty("items").EnumerateArray().Select(e => new Ev(
        e.GetProperty("reason").GetString() ?? "",
        e.GetProperty("involvedObject").GetProperty("kind").GetString() ?? "",
        e.GetProperty("involvedObject").GetProperty("name").GetString() ?? "",
        e.GetProperty("type").GetString() ?? "",
        e.GetProperty("message").GetString() ?? ""))];
}

using System.Text.Json;
using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Controllers.Node;
using Fim.Operator.Nats;
using Fim.Operator.Notifications;
using Fim.Operator.Tests.Support;
using Fim.Testing;
using k8s;
using k8s.Models;
using Xunit.Abstractions;

namespace Fim.Operator.Tests;

/// <summary>
/// Issue 18, node maintenance hold-off, acceptance 3: against the API double, real kubectl, a real agent (fed by the
/// FimPolicy the operator publishes), a real manager and a real nats-server. Cordoning the node (and later annotating it
/// fim.io/maintenance) during a simulated package upgrade lowers and tags the node's alerts; uncordoning (removing the
/// annotation) ends the hold-off and the manager posts the summary to the webhook, which must describe exactly the
/// alerts tagged with the window.
/// </summary>
[Collection(Serial.Name)]
public sealed class NodeHoldOffTests(ITestOutputHelper output)
{
    private const string Node = "node-a";
    private const int Reduction = 4;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Cordon_and_the_maintenance_annotation_lower_and_tag_the_nodes_alerts_and_uncordon_sends_the_summary()
    {
        var root = Path.Combine(Path.GetTempPath(), "fim-holdoff-" + Guid.NewGuid().ToString("N")[..10]);
        var tree = Path.Combine(root, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "usr", "bin"));
        Directory.CreateDirectory(Path.Combine(tree, "usr", "lib"));
        Directory.CreateDirectory(Path.Combine(tree, "etc"));
        await using var h = await OperatorHarness.StartAsync();
        await using var kv = await NatsKv.StartAsync();
        using var webhook = new TextWebhook();
        using var managers = new ManagerProcesses(kv.Server.Url, root, new Dictionary<string, string>
        {
            ["Fim__Sinks__Webhook__Url"] = webhook.Url,
            ["Fim__Sinks__Webhook__MinLevel"] = "15", // only the notifications reach this hook
            // Longer than the agent's packages.settleTimeout below, as the defaults are (45 s against 30 s): a change dpkg-like
            // renames make is held until then, and the summary must count it.
            ["Fim__Maintenance__SummaryDelay"] = "00:00:05",
        });
        await ManagerProcesses.AwaitReadyAsync(managers.Start());

        var maintenance = await NatsBuckets.OpenAsync(kv.Connection, Subjects.MaintenanceBucket, CancellationToken.None);
        var runner = new OperatorRunner(h.Client, kv.PolicyStore, kv.Agents, OperatorHarness.FastOptions("op-holdoff"), new TestLoggers(output))
        {
            Maintenance = new NatsMaintenanceWindowStore(() => maintenance, TimeSpan.FromSeconds(5)),
            Notifications = new NatsNotificationPublisher(() => kv.Connection, TimeSpan.FromSeconds(5)),
        };
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => runner.RunAsync(stop.Token));
        try
        {
            await h.Client.CoreV1.CreateNodeAsync(new V1Node
            {
                Metadata = new V1ObjectMeta { Name = Node, Labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = Node } },
            });
            await h.Policies.CreateAsync(new FimPolicy
            {
                Metadata = new V1ObjectMeta { Name = "node-files", NamespaceProperty = "default" },
                Spec = new FimPolicySpec
                {
                    Selector = new AgentSelector { MatchLabels = new() { ["role"] = "web" } },
                    Paths = [new FimPathRule { Path = tree, Recursive = true, Realtime = true }],
                    NodeMaintenance = new FimNodeMaintenance { LevelReduction = Reduction, OnReturn = FimNodeMaintenance.Summary },
                },
            });

            // The node's agent: id = the node name (as from NODE_NAME), its policy from KV as under the operator.
            var config = Path.Combine(root, "agent.yaml");
            await File.WriteAllTextAsync(config, $"""
                agentId: {Node}
                labels: {"{"} role: web {"}"}
                nats:
                  url: {kv.Server.Url}
                stateDir: {Path.Combine(root, "state")}
                keyFile: {Path.Combine(root, "keys", "baseline.key")}
                heartbeatInterval: 1s
                packages:
                  settleTimeout: 1s
                """);
            using var agent = ChildProcess.Agent(["run", "--config", config]);
            await Eventually.TrueAsync(async () => (await h.Policies.GetAsync<FimPolicy>("node-files"))?.Status?.AgentsApplied == 1,
                () => "the agent applied the policy\n" + agent.Output, Deadline);
            await using var nats = await NatsTestClient.ConnectAsync(kv.Server.Url);

            // Before: the files a package will upgrade, and a control change whose alert is neither lowered nor tagged.
            foreach (var f in new[] { "usr/bin/tool", "usr/bin/helper", "usr/lib/libtool.so.1", "etc/tool.conf" })
            {
                await File.WriteAllTextAsync(Path.Combine(tree, f), "v1\n");
            }

            var before = await AwaitAlertAsync(nats, Path.Combine(tree, "etc", "tool.conf"), _ => true);
            Assert.DoesNotContain(Tags(before), t => t.StartsWith("maintenance:", StringComparison.Ordinal));
            Assert.Equal(RuleLevel(before), Level(before));

            using var kubectl = Kubectl.For(h.Server.WriteKubeconfig);

            // 1. kubectl cordon during a package upgrade.
            await kubectl.OkAsync("cordon", Node);
            var first = await AwaitOpenWindowAsync(maintenance);
            Assert.Equal([Node], first.AgentIds);
            Assert.Equal(MaintenanceWindow.OnEndSummary, first.OnEnd);
            Assert.Equal(Reduction, first.LevelReduction);
            Assert.Contains("cordoned", first.Reason);
            var changed = await UpgradeAsync(nats, tree, "v2", first.Id);
            await kubectl.OkAsync("uncordon", Node);
            await AwaitSummaryAsync(nats, webhook, first, changed);

            // After the return: alerts are the node's usual ones again.
            await File.WriteAllTextAsync(Path.Combine(tree, "etc", "after.conf"), "back\n");
            var after = await AwaitAlertAsync(nats, Path.Combine(tree, "etc", "after.conf"), _ => true);
            Assert.DoesNotContain(Tags(after), t => t.StartsWith("maintenance:", StringComparison.Ordinal));

            // 2. The annotation does the same, with its text as the reason; removing it ends the hold-off.
            await kubectl.OkAsync("annotate", "node", Node, "fim.io/maintenance=kernel 6.12 patch");
            var second = await AwaitOpenWindowAsync(maintenance);
            Assert.NotEqual(first.Id, second.Id);
            Assert.Contains("kernel 6.12 patch", second.Reason);
            changed = await UpgradeAsync(nats, tree, "v3", second.Id);
            await kubectl.OkAsync("annotate", "node", Node, "fim.io/maintenance-");
            await AwaitSummaryAsync(nats, webhook, second, changed);

            // The node's Events say when each hold-off began and ended.
            var events = await h.Client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: $"involvedObject.name={Node}");
            Assert.Equal(2, events.Items.Count(e => e.Reason == "MaintenanceHoldOff"));
            Assert.Equal(2, events.Items.Count(e => e.Reason == "MaintenanceReturn"));
        }
        finally
        {
            await stop.CancelAsync();
            await run.ContinueWith(_ => { });
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// A package upgrade as dpkg does it: binaries and a library replaced, a new library added, an old file removed, a
    /// conffile rewritten. Each change must arrive lowered by the window's reduction and tagged with it. Returns the paths.
    /// </summary>
    private async Task<List<string>> UpgradeAsync(NatsTestClient nats, string tree, string version, string windowId)
    {
        // The manager learns the window through its KV watch: a probe change first, repeated until its alert carries the
        // tag, so the upgrade below is judged with the window known (a change judged before would simply not be tagged).
        var tag = MaintenanceWindow.Tag(windowId);
        for (var i = 0; ; i++)
        {
            var probe = Path.Combine(tree, "etc", $"probe-{version}-{i}");
            await File.WriteAllTextAsync(probe, "probe\n");
            var alert = await AwaitAlertAsync(nats, probe, _ => true);
            if (Tags(alert).Contains(tag))
            {
                break;
            }

            Assert.True(i < 20, "the manager never learnt the window " + windowId);
        }

        var paths = new List<string>();
        foreach (var f in new[] { "usr/bin/tool", "usr/bin/helper", "usr/lib/libtool.so.1", "etc/tool.conf" })
        {
            var p = Path.Combine(tree, f);
            var tmp = p + ".dpkg-new";
            await File.WriteAllTextAsync(tmp, $"{version}\n");
            File.Move(tmp, p, overwrite: true);
            paths.Add(p);
        }

        var added = Path.Combine(tree, "usr", "lib", $"libtool.so.{version}");
        await File.WriteAllTextAsync(added, version);
        paths.Add(added);
        if (version == "v2")
        {
            var removed = Path.Combine(tree, "usr", "lib", "libtool.so.1");
            File.Delete(removed);
        }

        foreach (var p in paths.Distinct())
        {
            var alert = await AwaitAlertAsync(nats, p, a => Tags(a).Contains(tag));
            Assert.Equal(Math.Max(1, RuleLevel(alert) - Reduction), Level(alert));
            Assert.Contains("maintenance:" + windowId, Tags(alert));
        }

        // Quiet before the return: each temporary .dpkg-new file's deletion alerted and every stored event judged, so
        // the summary (made SummaryDelay after the return) and this test count the same alerts.
        await Eventually.TrueAsync(async () =>
        {
            var alerts = await StreamContents.ReadAllAsync(nats.Js, Subjects.AlertsStream);
            var events = await StreamContents.ReadAllAsync(nats.Js, Subjects.EventsStream);
            var temporary = alerts.Where(a => a.Path.EndsWith(".dpkg-new", StringComparison.Ordinal)).Select(a => a.Path).Distinct().ToList();
            return alerts.Count == events.Count && temporary.All(t => alerts.Any(a => a.Path == t && a.Kind == "deleted"));
        }, "the upgrade's events all judged", Deadline);
        return [.. paths.Distinct()];
    }

    /// <summary>The summary the webhook got for <paramref name="w"/> describes exactly the alerts FIM_ALERTS holds with its tag.</summary>
    private async Task AwaitSummaryAsync(NatsTestClient nats, TextWebhook webhook, MaintenanceWindow w, List<string> changed)
    {
        string? text = null;
        await Eventually.TrueAsync(() => (text = webhook.Texts.FirstOrDefault(t => t.Contains($"Node {Node} back from maintenance ({w.Reason})", StringComparison.Ordinal))) is not null,
            () => $"the webhook got the summary of {w.Id}; it got: {string.Join(" | ", webhook.Texts)}", Deadline);
        var tagged = (await StreamContents.ReadAllAsync(nats.Js, Subjects.AlertsStream))
            .Where(a => Tags(a).Contains(MaintenanceWindow.Tag(w.Id))).ToList();
        output.WriteLine("summary: " + text);
        Assert.Contains($": {tagged.Count} changes (", text);
        foreach (var kind in tagged.GroupBy(a => a.Kind))
        {
            Assert.Contains($"{kind.Key} {kind.Count()}", text);
        }

        var top = tagged.GroupBy(a => a.Path, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(10)
            .Select(g => $"{g.Key} ({g.Count()})");
        Assert.EndsWith("; top paths: " + string.Join(", ", top), text);
        Assert.All(changed, p => Assert.Contains(tagged, a => a.Path == p));
        Assert.Contains($"on {Node};", text);

        // Sent once, though several managers could race to send it.
        await Task.Yield();
        Assert.Single(webhook.Texts, t => t.Contains(w.Reason, StringComparison.Ordinal) && t.Contains("back from maintenance", StringComparison.Ordinal));
    }

    private static async Task<MaintenanceWindow> AwaitOpenWindowAsync(NATS.Client.KeyValueStore.INatsKVStore bucket)
    {
        MaintenanceWindow? open = null;
        await Eventually.TrueAsync(async () =>
        {
            await foreach (var key in bucket.GetKeysAsync())
            {
                var entry = await bucket.GetEntryAsync<byte[]>(key);
                var w = JsonSerializer.Deserialize(entry.Value!, ContractJson.Default.MaintenanceWindow)!;
                if (w.Node == Node && w.ClosesAt > DateTimeOffset.UtcNow)
                {
                    open = w;
                    return true;
                }
            }

            return false;
        }, "the operator opened a window for " + Node, Deadline);
        return open!;
    }

    private static async Task<StreamMessage> AwaitAlertAsync(NatsTestClient nats, string path, Func<StreamMessage, bool> match)
    {
        StreamMessage? found = null;
        await Eventually.TrueAsync(async () =>
        {
            found = (await StreamContents.ReadAllAsync(nats.Js, Subjects.AlertsStream)).LastOrDefault(a => a.Path == path && match(a));
            return found is not null;
        }, "an alert for " + path, Deadline);
        return found!;
    }

    private static List<string> Tags(StreamMessage a) => [.. a.Body.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)];

    private static int Level(StreamMessage a) => a.Body.GetProperty("level").GetInt32();

    private static int RuleLevel(StreamMessage a) => a.Body.GetProperty("rule").GetProperty("level").GetInt32();
}

using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Controllers.Node;
using Fim.Operator.Tests.Support;
using Fim.Testing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fim.Operator.Tests;

/// <summary>The node hold-off's decisions, on an in-memory KV and the API double (for the Node Events).</summary>
public sealed class NodeHoldOffReconcilerTests
{
    private sealed class MemoryWindows : IMaintenanceWindowStore
    {
        private readonly Dictionary<string, StoredWindow> _windows = [];

        public IReadOnlyList<MaintenanceWindow> All => [.. _windows.Values.Select(w => w.Window)];

        public Task<IReadOnlyList<StoredWindow>> ListAsync(CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<StoredWindow>>([.. _windows.Values.Select(w => w with { Window = Copy(w.Window) })]);

        public Task CreateAsync(MaintenanceWindow window, CancellationToken ct)
        {
            Assert.True(_windows.TryAdd(window.Id, new StoredWindow(Copy(window), 1)), "created twice");
            return Task.CompletedTask;
        }

        public Task UpdateAsync(MaintenanceWindow window, ulong revision, CancellationToken ct)
        {
            Assert.Equal(_windows[window.Id].Revision, revision);
            _windows[window.Id] = new StoredWindow(Copy(window), revision + 1);
            return Task.CompletedTask;
        }

        private static MaintenanceWindow Copy(MaintenanceWindow w) =>
            System.Text.Json.JsonSerializer.Deserialize(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(w, ContractJson.Default.MaintenanceWindow), ContractJson.Default.MaintenanceWindow)!;
    }

    private static V1Node Node(bool cordoned = true, string? annotation = null) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "ip-10-0-1-7.eu-west-1.compute.internal",
            Uid = "node-uid",
            Annotations = annotation is null ? null : new Dictionary<string, string> { [NodeHoldOffReconciler.MaintenanceAnnotation] = annotation },
        },
        Spec = new V1NodeSpec { Unschedulable = cordoned },
    };

    private static FimPolicy Policy(string name, FimNodeMaintenance? maintenance, string role = "web")
    {
        var p = Samples.Policy(name, matchLabels: new() { ["role"] = role });
        p.Spec.NodeMaintenance = maintenance;
        return p;
    }

    /// <summary>The agent's side of fim.agent.&lt;id&gt;.rebaseline: records each request and answers as told.</summary>
    private sealed class RecordingRebaseliner(string? error = null) : Fim.Operator.Controllers.NodeStatus.IAgentRebaseliner
    {
        public List<(string Agent, AgentCommand Command)> Requests { get; } = [];

        public Task<AgentReply> RebaselineAsync(string agentId, AgentCommand command, CancellationToken ct)
        {
            Requests.Add((agentId, command));
            return Task.FromResult(error is null ? new AgentReply { Ok = true, Rebaselined = [command.Policy!] } : AgentReply.Failure(error));
        }
    }

    private static (NodeHoldOffReconciler Reconciler, MemoryWindows Windows) Make(IKubernetes client, params FimPolicy[] policies) =>
        Make(client, null, policies);

    private static (NodeHoldOffReconciler Reconciler, MemoryWindows Windows) Make(IKubernetes client, RecordingRebaseliner? rebaseliner, params FimPolicy[] policies)
    {
        var agents = new MemoryAgentDirectory();
        agents.Put(TestHeartbeats.Make("ip-10-0-1-7-eu-west-1-compute-internal", new Dictionary<string, string> { ["role"] = "web" }));
        var windows = new MemoryWindows();
        return (new NodeHoldOffReconciler(client, windows, () => policies, agents, "test", NullLogger.Instance, rebaseliner: rebaseliner), windows);
    }

    [Fact]
    public async Task On_return_the_policies_asking_for_it_are_rebaselined_on_the_nodes_agent_and_a_refusal_is_a_warning()
    {
        await using var h = await OperatorHarness.StartAsync();
        var agent = new RecordingRebaseliner();
        var (reconciler, windows) = Make(h.Client, agent,
            Policy("accept", new FimNodeMaintenance { OnReturn = FimNodeMaintenance.Rebaseline }),
            Policy("report", new FimNodeMaintenance { OnReturn = FimNodeMaintenance.Summary }));
        var key = Node().Metadata.Name;
        await reconciler.ReconcileAsync(key, Node(), CancellationToken.None);
        Assert.Empty(agent.Requests); // nothing while the node is held
        var window = Assert.Single(windows.All);

        await reconciler.ReconcileAsync(key, Node(cordoned: false), CancellationToken.None);
        var (to, command) = Assert.Single(agent.Requests);
        Assert.Equal("ip-10-0-1-7-eu-west-1-compute-internal", to);
        Assert.Equal((AgentCommand.RebaselineName, "default/accept"), (command.Command, command.Policy));
        Assert.Contains(window.Id, command.RequestedBy);
        await reconciler.ReconcileAsync(key, Node(cordoned: false), CancellationToken.None);
        Assert.Single(agent.Requests); // once per return, not on every pass

        var refusing = new RecordingRebaseliner("policy fim/accept is not running");
        (reconciler, _) = Make(h.Client, refusing, Policy("accept", new FimNodeMaintenance { OnReturn = FimNodeMaintenance.Rebaseline }));
        await reconciler.ReconcileAsync(key, Node(), CancellationToken.None);
        await reconciler.ReconcileAsync(key, Node(cordoned: false), CancellationToken.None);
        Assert.Single(refusing.Requests);

        var events = (await h.Client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: $"involvedObject.name={key}")).Items;
        Assert.Contains(events, e => e.Reason == "MaintenanceRebaselined" && e.Type == "Normal" && e.Message.Contains("accept", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Reason == "MaintenanceRebaselineFailed" && e.Type == "Warning" && e.Message.Contains("is not running", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_held_node_gets_one_window_for_its_agent_with_the_policies_largest_reduction_and_its_return_ends_it()
    {
        await using var h = await OperatorHarness.StartAsync();
        var (reconciler, windows) = Make(h.Client,
            Policy("quiet", new FimNodeMaintenance { LevelReduction = 2, OnReturn = FimNodeMaintenance.None }),
            Policy("loud", new FimNodeMaintenance { LevelReduction = 7 }),
            Policy("plain", null),
            Policy("other-role", new FimNodeMaintenance { LevelReduction = 15 }, role: "db"),
            Policy("opted-out", new FimNodeMaintenance { HoldOff = false, LevelReduction = 12 }));
        var node = Node();
        var key = node.Metadata.Name;
        await reconciler.ReconcileAsync(key, node, CancellationToken.None);
        await reconciler.ReconcileAsync(key, node, CancellationToken.None); // again, as after a restart: the window in KV is found
        var w = Assert.Single(windows.All);
        Assert.Equal(["ip-10-0-1-7-eu-west-1-compute-internal"], w.AgentIds); // the agent's id for this NODE_NAME
        Assert.Equal(key, w.Node);
        Assert.Equal(7, w.LevelReduction); // "loud"; db-only and opted-out policies do not count
        Assert.Equal(MaintenanceWindow.OnEndSummary, w.OnEnd); // one covering policy asks for the summary
        Assert.Null(w.EndedAt);

        await reconciler.ReconcileAsync(key, Node(cordoned: false), CancellationToken.None);
        w = Assert.Single(windows.All);
        Assert.Equal(NodeHoldOffReconciler.By, w.EndedBy);
        Assert.True(w.ClosesAt <= DateTimeOffset.UtcNow);

        // Annotated this time, and the node is deleted while held: the hold-off ends too.
        await reconciler.ReconcileAsync(key, Node(cordoned: false, annotation: "firmware"), CancellationToken.None);
        var second = Assert.Single(windows.All, x => x.EndedAt is null);
        Assert.Equal($"node {key} annotated fim.io/maintenance: firmware", second.Reason);
        await reconciler.ReconcileAsync(key, null, CancellationToken.None);
        Assert.All(windows.All, x => Assert.NotNull(x.EndedAt));

        var events = (await h.Client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: $"involvedObject.name={key}")).Items;
        Assert.Equal(2, events.Count(e => e.Reason == "MaintenanceHoldOff"));
        Assert.Single(events, e => e.Reason == "MaintenanceReturn"); // the deleted node gets none
    }

    [Fact]
    public async Task No_policy_asking_for_it_means_no_hold_off_and_onReturn_none_asks_for_no_summary()
    {
        await using var h = await OperatorHarness.StartAsync();
        var (none, noWindows) = Make(h.Client, Policy("plain", null), Policy("opted-out", new FimNodeMaintenance { HoldOff = false }));
        await none.ReconcileAsync(Node().Metadata.Name, Node(), CancellationToken.None);
        Assert.Empty(noWindows.All);

        var (quiet, windows) = Make(h.Client, Policy("quiet", new FimNodeMaintenance { OnReturn = FimNodeMaintenance.None }));
        await quiet.ReconcileAsync(Node().Metadata.Name, Node(), CancellationToken.None);
        var w = Assert.Single(windows.All);
        Assert.Null(w.OnEnd);
        Assert.Equal(5, w.LevelReduction);
        Assert.Null(NodeHoldOffReconciler.HoldReason(Node(cordoned: false)));
    }

    [Fact]
    public async Task The_crd_accepts_only_the_onReturn_values_that_work()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Policies.CreateAsync(Policy("rebaseline", new FimNodeMaintenance { OnReturn = FimNodeMaintenance.Rebaseline }));
        var e = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() =>
            h.Policies.CreateAsync(Policy("reset", new FimNodeMaintenance { OnReturn = "reset" })));
        Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, e.Response.StatusCode);
        Assert.Contains("spec.nodeMaintenance.onReturn", e.Response.Content);
        await h.Policies.CreateAsync(Policy("summary", new FimNodeMaintenance { OnReturn = FimNodeMaintenance.Summary, LevelReduction = 15 }));
        var tooMuch = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() =>
            h.Policies.CreateAsync(Policy("too-much", new FimNodeMaintenance { LevelReduction = 16 })));
        Assert.Contains("spec.nodeMaintenance.levelReduction", tooMuch.Response.Content);
    }
}

using System.Text.Json;
using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Controllers.NodeStatus;
using k8s;
using k8s.Models;

namespace Fim.Operator.Tests;

/// <summary>Issue 18: the pure parts of the node status controller.</summary>
public sealed class NodeStatusCalculatorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    private static Heartbeat Hb(HeartbeatPolicy p) => new()
    {
        AgentId = "node-b",
        Hostname = "node-b",
        Version = "1.2.3",
        BootId = "b",
        Labels = new Dictionary<string, string>(),
        AppliedPolicies = new Dictionary<string, long>(),
        PolicyErrors = new Dictionary<string, string>(),
        Policies = [p],
        BaselineDigest = "",
        Outbox = new HeartbeatOutbox(0, 0, 1, false, 0),
        Time = T0,
        WhoData = new Dictionary<string, WhoDataStatus> { ["default/pci"] = new(WhoDataStatus.Inotify, "no CAP_SYS_ADMIN") },
    };

    private static HeartbeatPolicy Policy(string state = "running", HeartbeatDrift? drift = null, int? scanErrors = 0, string? error = null) =>
        new("default.pci", "default/pci", 3, state, error, null, new HeartbeatScan("default/pci", "schedule", T0, 10, 0, 1, scanErrors), drift);

    [Fact]
    public void Result_is_error_before_changed_before_clean_and_unknown_without_drift()
    {
        var drift = new HeartbeatDrift(1, 2, 0, T0.AddHours(-1));
        var changed = NodeStatusCalculator.Report(Hb(Policy(drift: drift)), Policy(drift: drift));
        Assert.Equal((FimNodeStatusReport.ResultChanged, 1L, 2L, 0L), (changed.Result, changed.Added, changed.Changed, changed.Removed));
        Assert.Equal(("2026-12-03T10:00:00Z", "2026-12-03T09:00:00Z", "inotify", "1.2.3"), (changed.LastScan, changed.BaselineAcceptedAt, changed.WhoDataSource, changed.AgentVersion));
        Assert.Equal(FimNodeStatusReport.ResultClean, NodeStatusCalculator.Report(Hb(Policy()), Policy(drift: drift with { Added = 0, Changed = 0 })).Result);
        Assert.Equal(FimNodeStatusReport.ResultUnknown, NodeStatusCalculator.Report(Hb(Policy()), Policy()).Result);
        var scanErrors = NodeStatusCalculator.Report(Hb(Policy()), Policy(drift: drift, scanErrors: 2));
        Assert.Equal((FimNodeStatusReport.ResultError, "the last scan could not examine 2 entries"), (scanErrors.Result, scanErrors.Message));
        var failed = NodeStatusCalculator.Report(Hb(Policy()), Policy(state: "error", error: "root /etc/app does not exist"));
        Assert.Equal((FimNodeStatusReport.ResultError, "root /etc/app does not exist"), (failed.Result, failed.Message));
        // Running, but the agent cannot vouch for its counters (they failed their seal): an error, not clean.
        var untrusted = NodeStatusCalculator.Report(Hb(Policy()), Policy(drift: drift with { Added = 0, Changed = 0 }, error: "the drift counters x fail their seal"));
        Assert.Equal((FimNodeStatusReport.ResultError, "the drift counters x fail their seal"), (untrusted.Result, untrusted.Message));
    }

    [Fact]
    public void Desired_is_owned_by_the_policy_and_the_node_and_same_ignores_what_others_added()
    {
        var policy = new FimPolicy { Metadata = new V1ObjectMeta { Name = "pci", NamespaceProperty = "default", Uid = "p-uid" } };
        var node = new V1Node { Metadata = new V1ObjectMeta { Name = "node-b", Uid = "n-uid" } };
        var p = Policy(drift: new HeartbeatDrift(0, 0, 0, T0));
        var desired = NodeStatusCalculator.Desired(policy, Hb(p), p, node);
        Assert.Equal(("pci.node-b", "default"), (desired.Metadata.Name, desired.Metadata.NamespaceProperty));
        Assert.Equal(["p-uid", "n-uid"], desired.Metadata.OwnerReferences.Select(o => o.Uid));

        // As stored: the server's metadata and someone's extra label do not make it differ; a changed count does.
        var stored = KubernetesJson.Deserialize<FimNodeStatus>(KubernetesJson.Serialize(desired));
        stored.Metadata.ResourceVersion = "42";
        stored.Metadata.Labels["team"] = "payments";
        Assert.True(NodeStatusCalculator.Same(stored, desired));
        Assert.False(NodeStatusCalculator.Same(stored, NodeStatusCalculator.Desired(policy, Hb(p), p with { Drift = new HeartbeatDrift(0, 1, 0, T0) }, node)));
        Assert.False(NodeStatusCalculator.Same(stored, NodeStatusCalculator.Desired(policy, Hb(p), p, new V1Node { Metadata = new V1ObjectMeta { Name = "node-b", Uid = "new-uid" } })));
        Assert.False(NodeStatusCalculator.Same(null, desired));

        var longName = NodeStatusCalculator.NameOf(new string('p', 200), new string('n', 100));
        Assert.True(longName.Length <= 253, longName);
    }

    [Fact]
    public void The_requester_is_the_field_manager_that_set_the_annotation()
    {
        // managedFields as a real API server returns them after `kubectl annotate fimpolicy pci fim.io/rebaseline=failed`.
        var entries = KubernetesJson.Deserialize<List<V1ManagedFieldsEntry>>("""
            [ {"manager":"kubectl-client-side-apply","operation":"Update","apiVersion":"fim.io/v1alpha1","time":"2026-12-03T09:00:00Z","fieldsType":"FieldsV1",
               "fieldsV1":{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}}},"f:spec":{".":{}}}},
              {"manager":"fim-operator","operation":"Update","apiVersion":"fim.io/v1alpha1","time":"2026-12-03T09:01:00Z","fieldsType":"FieldsV1",
               "fieldsV1":{"f:status":{".":{},"f:agentsApplied":{}}},"subresource":"status"},
              {"manager":"kubectl-annotate","operation":"Update","apiVersion":"fim.io/v1alpha1","time":"2026-12-03T10:00:00Z","fieldsType":"FieldsV1",
               "fieldsV1":{"f:metadata":{"f:annotations":{"f:fim.io/rebaseline":{}}}}} ]
            """);
        Assert.Equal("kubectl-annotate (Update)", NodeStatusCalculator.RequesterOf(entries));
        Assert.Null(NodeStatusCalculator.RequesterOf(entries.Take(2).ToList()));
        Assert.Null(NodeStatusCalculator.RequesterOf(null));
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("failed", null)]
    [InlineData("node-a, node-b node-a", "node-a|node-b")]
    public void Selections(string value, string? nodes)
    {
        Assert.Null(NodeStatusCalculator.ParseSelection(value, out var listed));
        Assert.Equal(nodes, listed is null ? null : string.Join('|', listed));
    }

    [Fact]
    public void A_bad_selection_is_refused_naming_the_entry_and_the_forms()
    {
        var problem = NodeStatusCalculator.ParseSelection("node-a,Node_B", out var listed);
        Assert.Null(listed);
        Assert.StartsWith("fim.io/rebaseline: 'Node_B' is not a node name (lower-case letters, digits, '-' and '_'); use an empty value for every node, 'failed'", problem);
    }
}

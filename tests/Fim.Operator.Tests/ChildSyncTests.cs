using Fim.Operator.Controllers;
using Fim.Operator.Controllers.Pool;
using k8s;
using k8s.Models;

namespace Fim.Operator.Tests;

public sealed class ChildSyncTests
{
    private static V1Deployment Desired(string uid = "uid-1") => PoolDesiredState.Build(Samples.Stored(Samples.Pool(), uid)).Deployment;

    private static T Clone<T>(T o) => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(o));

    /// <summary>What a server returns: our object plus defaults and fields others own.</summary>
    private static V1Deployment Live(V1Deployment desired)
    {
        var live = Clone(desired);
        live.Metadata.ResourceVersion = "42";
        live.Metadata.Labels["other"] = "kept";
        live.Spec.Replicas = 5; // the HPA scaled it
        live.Spec.RevisionHistoryLimit = 10;
        live.Spec.Template.Spec.Containers[0].ImagePullPolicy = "IfNotPresent";
        live.Spec.Template.Spec.DnsPolicy = "ClusterFirst";
        return live;
    }

    private static V1OwnerReference Ours(string uid = "uid-1") => PoolDesiredState.OwnerReference(Samples.Stored(Samples.Pool(), uid));

    [Fact]
    public void Server_defaults_and_HPA_replicas_are_not_differences()
    {
        var desired = Desired();
        var live = ChildSync.Node(Live(desired));
        Assert.Equal(new ChildOwnership(null, false), ChildSync.Ownership(Ours(), live, PoolLabels.PoolLabel));
        Assert.True(ChildSync.IsSubset(ChildSync.Node(desired), live));
    }

    [Fact]
    public void A_changed_image_is_a_difference()
    {
        var desired = Desired();
        var live = Live(desired);
        live.Spec.Template.Spec.Containers[0].Image = "old:1";
        Assert.False(ChildSync.IsSubset(ChildSync.Node(desired), ChildSync.Node(live)));
    }

    [Fact]
    public void A_child_left_by_a_restored_pool_is_adopted()
    {
        var live = ChildSync.Node(Live(Desired("old-uid")));
        Assert.Equal(new ChildOwnership(null, true), ChildSync.Ownership(Ours("new-uid"), live, PoolLabels.PoolLabel));
    }

    [Fact]
    public void A_child_controlled_by_someone_else_or_unlabelled_is_a_conflict()
    {
        var desired = Desired();
        var foreign = Live(desired);
        foreign.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "x", Uid = "u", Controller = true }];
        Assert.Contains("controlled by ReplicaSet x", ChildSync.Ownership(Ours(), ChildSync.Node(foreign), PoolLabels.PoolLabel).Conflict);

        var stranger = Live(desired);
        stranger.Metadata.OwnerReferences = null;
        stranger.Metadata.Labels.Remove(PoolLabels.PoolLabel);
        Assert.Contains("not managed by the operator", ChildSync.Ownership(Ours(), ChildSync.Node(stranger), PoolLabels.PoolLabel).Conflict);

        var labelled = Live(desired);
        labelled.Metadata.OwnerReferences = null;
        Assert.Equal(new ChildOwnership(null, true), ChildSync.Ownership(Ours(), ChildSync.Node(labelled), PoolLabels.PoolLabel));
    }

    [Fact]
    public void Subset_compares_arrays_by_position_and_length()
    {
        var a = System.Text.Json.Nodes.JsonNode.Parse("""{"x":[{"a":1},{"b":2}],"y":"s"}""");
        Assert.True(ChildSync.IsSubset(a, System.Text.Json.Nodes.JsonNode.Parse("""{"x":[{"a":1,"c":0},{"b":2}],"y":"s","z":1}""")));
        Assert.False(ChildSync.IsSubset(a, System.Text.Json.Nodes.JsonNode.Parse("""{"x":[{"a":1}],"y":"s"}""")));
        Assert.False(ChildSync.IsSubset(a, System.Text.Json.Nodes.JsonNode.Parse("""{"x":[{"a":1},{"b":3}],"y":"s"}""")));
    }
}

using Fim.Operator.Controllers;
using Fim.Operator.Controllers.Pool;
using k8s;
using k8s.Models;

namespace Fim.Operator.Tests;

public sealed class ChildSyncTests
{
    private static readonly string[] DeploymentPaths = ["spec.selector", "spec.template"];

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

    [Fact]
    public void Server_defaults_and_HPA_replicas_are_not_differences()
    {
        var desired = Desired();
        var decision = ChildSync.Decide(desired, Live(desired), DeploymentPaths, PoolLabels.PoolLabel);
        Assert.Equal(ChildAction.InSync, decision.Action);
    }

    [Fact]
    public void A_changed_image_is_updated_and_replicas_and_foreign_labels_are_kept()
    {
        var desired = Desired();
        var live = Live(desired);
        live.Spec.Template.Spec.Containers[0].Image = "old:1";
        var decision = ChildSync.Decide(desired, live, DeploymentPaths, PoolLabels.PoolLabel);
        Assert.Equal(ChildAction.Update, decision.Action);
        Assert.False(decision.Adopts);
        var updated = KubernetesJson.Deserialize<V1Deployment>(decision.Updated!.ToJsonString());
        Assert.Equal(desired.Spec.Template.Spec.Containers[0].Image, updated.Spec.Template.Spec.Containers[0].Image);
        Assert.Equal(5, updated.Spec.Replicas);
        Assert.Equal("kept", updated.Metadata.Labels["other"]);
        Assert.Equal("42", updated.Metadata.ResourceVersion);
    }

    [Fact]
    public void A_child_left_by_a_restored_pool_is_adopted_with_the_new_uid()
    {
        var live = Live(Desired("old-uid"));
        var desired = Desired("new-uid");
        var decision = ChildSync.Decide(desired, live, DeploymentPaths, PoolLabels.PoolLabel);
        Assert.Equal(ChildAction.Update, decision.Action);
        Assert.True(decision.Adopts);
        var updated = KubernetesJson.Deserialize<V1Deployment>(decision.Updated!.ToJsonString());
        var owner = Assert.Single(updated.Metadata.OwnerReferences);
        Assert.Equal("new-uid", owner.Uid);
        Assert.Equal(ChildAction.InSync, ChildSync.Decide(desired, updated, DeploymentPaths, PoolLabels.PoolLabel).Action);
    }

    [Fact]
    public void A_child_controlled_by_someone_else_or_unlabelled_is_a_conflict()
    {
        var desired = Desired();
        var foreign = Live(desired);
        foreign.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "x", Uid = "u", Controller = true }];
        Assert.Equal(ChildAction.Conflict, ChildSync.Decide(desired, foreign, DeploymentPaths, PoolLabels.PoolLabel).Action);

        var stranger = Live(desired);
        stranger.Metadata.OwnerReferences = null;
        stranger.Metadata.Labels.Remove(PoolLabels.PoolLabel);
        var decision = ChildSync.Decide(desired, stranger, DeploymentPaths, PoolLabels.PoolLabel);
        Assert.Equal(ChildAction.Conflict, decision.Action);
        Assert.Contains("not managed by the operator", decision.Reason);
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

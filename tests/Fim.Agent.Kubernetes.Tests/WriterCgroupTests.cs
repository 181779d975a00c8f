using Fim.Agent.Kubernetes;
using Fim.Agent.WhoData;
using Fim.Contracts;
using Fim.Testing;

namespace Fim.Agent.Kubernetes.Tests;

/// <summary>The cgroup captured with the writer decides its pod, not whatever holds its pid when the event is committed.</summary>
[Collection("cgroups")]
public sealed class WriterCgroupTests
{
    [Fact]
    public void A_cgroup_id_names_its_directory_through_a_kernfs_handle_and_a_removed_one_names_nothing()
    {
        using var paths = new CgroupPaths();
        Assert.Equal(KubeletCgroup.UnifiedRoot, paths.MountPoint);
        var podUid = KubeletCgroup.NewPodUid();
        ulong id;
        using (var cgroup = KubeletCgroup.SystemdV2(podUid, KubeletCgroup.NewContainerId()))
        {
            id = Inode(cgroup.Directory);
            Assert.Equal(cgroup.Relative, paths.Path(id));
            Assert.Equal($"0::{cgroup.Relative}\n", paths.ProcCgroupText(id));
        }
        using var fresh = new CgroupPaths();
        Assert.Null(fresh.Path(id));
        Assert.Null(fresh.Path(0));
    }

    [Fact]
    public void The_captured_cgroup_wins_over_the_pid_and_an_unknown_actor_gets_no_workload()
    {
        var podUid = KubeletCgroup.NewPodUid();
        var containerId = KubeletCgroup.NewContainerId();
        var resolver = new WorkloadResolver(new PodDirectory());
        // The pid is now a node process (this test's own), as after a reuse; the capture says the writer was in the pod.
        var actor = new Actor { Pid = Environment.ProcessId };
        WriterCgroups.Remember(actor, $"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{podUid.Replace('-', '_')}.slice/cri-containerd-{containerId}.scope\n");
        var e = new FileEvent { Actor = actor };
        resolver.Attribute(e);
        Assert.Equal((Workload.PodScope, podUid, containerId), (e.Actor!.Workload!.Scope, e.Actor.Workload.PodUid, e.Actor.Workload.ContainerId));

        var unknown = new FileEvent { Actor = new Actor { Pid = Environment.ProcessId, Unknown = "pid-reused" } };
        resolver.Attribute(unknown);
        Assert.Null(unknown.Actor!.Workload);

        var live = new FileEvent { Actor = new Actor { Pid = Environment.ProcessId } };
        resolver.Attribute(live);
        Assert.Equal(Workload.NodeScope, live.Actor!.Workload!.Scope);
    }

    private static ulong Inode(string path) =>
        ulong.Parse(ChildProcess.Run("stat", ["-c", "%i", path]).EnsureSuccess().Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
}

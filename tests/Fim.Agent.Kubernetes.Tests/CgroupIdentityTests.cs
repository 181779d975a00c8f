using Fim.Agent.Kubernetes;

namespace Fim.Agent.Kubernetes.Tests;

public class CgroupIdentityTests
{
    private const string Id = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";
    private const string Uid = "6f1d2c3b-0a9e-4d8f-8b7a-1c2d3e4f5a6b";

    [Theory]
    [InlineData("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6f1d2c3b_0a9e_4d8f_8b7a_1c2d3e4f5a6b.slice/cri-containerd-" + Id + ".scope", "containerd")]
    [InlineData("/kubepods.slice/kubepods-pod6f1d2c3b_0a9e_4d8f_8b7a_1c2d3e4f5a6b.slice/crio-" + Id + ".scope", "cri-o")]
    [InlineData("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod6f1d2c3b_0a9e_4d8f_8b7a_1c2d3e4f5a6b.slice/docker-" + Id + ".scope", "docker")]
    [InlineData("/kubepods/burstable/pod" + Uid + "/" + Id, null)]
    [InlineData("/kubepods/pod" + Uid + "/" + Id, null)]
    [InlineData("/kubepods/besteffort/pod" + Uid + "/crio-" + Id, "cri-o")]
    [InlineData("/system.slice/containerd.service/kubepods-burstable-pod6f1d2c3b_0a9e_4d8f_8b7a_1c2d3e4f5a6b.slice:cri-containerd:" + Id, "containerd")]
    [InlineData("/../../kubepods-burstable-pod6f1d2c3b_0a9e_4d8f_8b7a_1c2d3e4f5a6b.slice/cri-containerd-" + Id + ".scope/nested", "containerd")]
    public void Kubelet_and_runtime_names_give_pod_and_container(string path, string? runtime)
    {
        var identity = CgroupIdentity.Parse(path);
        Assert.NotNull(identity);
        Assert.Equal(Uid, identity.PodUid);
        Assert.Equal(Id, identity.ContainerId);
        Assert.Equal(runtime, identity.Runtime);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/user.slice/user-1000.slice/session-3.scope")]
    [InlineData("/system.slice/containerd.service")]
    [InlineData("/docker/" + Id)]
    public void Node_processes_name_no_pod(string path) => Assert.Null(CgroupIdentity.Parse(path));

    [Fact]
    public void Conmon_is_in_the_pod_but_in_no_container()
    {
        var identity = CgroupIdentity.Parse("/kubepods.slice/kubepods-pod6f1d2c3b_0a9e_4d8f_8b7a_1c2d3e4f5a6b.slice/crio-conmon-" + Id + ".scope");
        Assert.Equal(Uid, identity?.PodUid);
        Assert.Null(identity?.ContainerId);
    }

    [Fact]
    public void Cgroup_v1_file_uses_the_hierarchy_that_names_a_pod()
    {
        var text = $"12:memory:/kubepods/burstable/pod{Uid}/{Id}\n11:cpu,cpuacct:/kubepods/burstable/pod{Uid}/{Id}\n1:name=systemd:/\n0::/\n";
        Assert.Equal(Id, CgroupIdentity.FromProcCgroup(text)?.ContainerId);
        Assert.Null(CgroupIdentity.FromProcCgroup("0::/user.slice\n"));
    }
}

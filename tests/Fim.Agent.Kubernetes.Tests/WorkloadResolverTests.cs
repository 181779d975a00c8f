using Fim.Agent.Kubernetes;
using Fim.Contracts;
using Fim.Testing;

namespace Fim.Agent.Kubernetes.Tests;

/// <summary>Real processes in real cgroups named as the kubelet names them, pods served by the API double.</summary>
[Collection("cgroups")]
public class WorkloadResolverTests
{
    private static ChildProcess Writer() => new("sh", ["-c", "while :; do echo x >> /dev/null; sleep 0.2; done"], name: "writer");

    [Fact]
    public async Task A_writer_in_a_containerd_pod_cgroup_is_named_with_its_pod_container_and_deployment()
    {
        await using var pods = await KubePods.StartAsync();
        var containerId = KubeletCgroup.NewContainerId();
        using var writer = Writer();
        var pod = await pods.RunAsync("shop", "web-7d9f8b6c5-x2x9q", "nginx", "nginx:1.27", containerId,
            owner: KubePods.Owner("ReplicaSet", "web-7d9f8b6c5"), labels: new Dictionary<string, string> { ["app"] = "web", ["pod-template-hash"] = "7d9f8b6c5" });
        // The double gives the pod its uid; the cgroup must carry that one, as the kubelet's does.
        using var real = KubeletCgroup.SystemdV2(pod.Metadata.Uid, containerId);
        real.Add(writer.Id);
        await Eventually.TrueAsync(() => pods.Directory.ByContainerId(containerId) is not null, "the pod in the directory");

        var workload = new WorkloadResolver(pods.Directory).ForPid(writer.Id);

        Assert.NotNull(workload);
        Assert.Equal(Workload.PodScope, workload.Scope);
        Assert.Equal("web-7d9f8b6c5-x2x9q", workload.PodName);
        Assert.Equal("shop", workload.PodNamespace);
        Assert.Equal(pod.Metadata.Uid, workload.PodUid);
        Assert.Equal("nginx", workload.ContainerName);
        Assert.Equal("nginx:1.27", workload.Image);
        Assert.Equal(containerId, workload.ContainerId);
        Assert.Equal("containerd", workload.ContainerRuntime);
        Assert.Equal("Deployment", workload.OwnerKind);
        Assert.Equal("web", workload.OwnerName);
    }

    [Fact]
    public async Task Cgroup_v1_cgroupfs_driver_and_a_pod_of_a_cronjob()
    {
        await using var pods = await KubePods.StartAsync();
        var containerId = KubeletCgroup.NewContainerId();
        var pod = await pods.RunAsync("batch", "report-29012345-abcde", "report", "report:2", containerId, runtime: "cri-o",
            owner: KubePods.Owner("Job", "report-29012345", "batch/v1"));
        using var writer = Writer();
        using var cgroup = KubeletCgroup.CgroupfsV1(pod.Metadata.Uid, containerId);
        cgroup.Add(writer.Id);
        await Eventually.TrueAsync(() => pods.Directory.ByContainerId(containerId) is not null, "the pod in the directory");

        var workload = new WorkloadResolver(pods.Directory).ForPid(writer.Id);

        Assert.Equal("report-29012345-abcde", workload?.PodName);
        Assert.Equal("report", workload?.ContainerName);
        Assert.Equal("cri-o", workload?.ContainerRuntime);
        Assert.Equal(("CronJob", "report"), (workload?.OwnerKind, workload?.OwnerName));
    }

    [Fact]
    public async Task A_crio_daemonset_pod_and_a_writer_on_the_node()
    {
        await using var pods = await KubePods.StartAsync();
        var containerId = KubeletCgroup.NewContainerId();
        var pod = await pods.RunAsync("kube-system", "node-exporter-q7w8e", "exporter", "exporter:1", containerId, runtime: "cri-o",
            owner: KubePods.Owner("DaemonSet", "node-exporter"));
        using var inPod = Writer();
        using var onNode = Writer();
        using var cgroup = KubeletCgroup.SystemdV2(pod.Metadata.Uid, containerId, scopePrefix: "crio", qos: "besteffort");
        cgroup.Add(inPod.Id);
        await Eventually.TrueAsync(() => pods.Directory.ByContainerId(containerId) is not null, "the pod in the directory");
        var resolver = new WorkloadResolver(pods.Directory);

        Assert.Equal(("DaemonSet", "node-exporter", "exporter"), (resolver.ForPid(inPod.Id)?.OwnerKind, resolver.ForPid(inPod.Id)?.OwnerName, resolver.ForPid(inPod.Id)?.ContainerName));
        var node = resolver.ForPid(onNode.Id);
        Assert.Equal(Workload.NodeScope, node?.Scope);
        Assert.Null(node?.PodName);
    }

    [Fact]
    public async Task A_pod_the_api_has_not_shown_yet_is_named_by_uid_and_container_id_and_a_gone_pid_by_nothing()
    {
        var uid = KubeletCgroup.NewPodUid();
        var containerId = KubeletCgroup.NewContainerId();
        using var writer = Writer();
        using var cgroup = KubeletCgroup.SystemdV2(uid, containerId);
        cgroup.Add(writer.Id);
        var resolver = new WorkloadResolver(new PodDirectory());

        var workload = resolver.ForPid(writer.Id);
        Assert.Equal((Workload.PodScope, uid, containerId, (string?)null), (workload?.Scope, workload?.PodUid, workload?.ContainerId, workload?.PodName));

        writer.Kill();
        await writer.Exited;
        await Eventually.TrueAsync(() => !Directory.Exists($"/proc/{writer.Id}"), "the writer reaped");
        Assert.Null(resolver.ForPid(writer.Id));
    }
}

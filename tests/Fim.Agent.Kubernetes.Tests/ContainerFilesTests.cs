using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fim.Agent.Connected;
using Fim.Agent.Kubernetes;
using Fim.Contracts;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Testing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Fim.Agent.Kubernetes.Tests;

/// <summary>
/// Files inside containers: an unshare "container" with an overlayfs root in a pod-named cgroup, its pod served by
/// the API double, a policy selecting the pod by namespace and labels and naming /etc as the container sees it.
/// </summary>
[Collection("cgroups")]
public sealed class ContainerFilesTests : IAsyncLifetime
{
    private const string Image = "shop/web:1.4";
    private static readonly Dictionary<string, string> Files = new() { ["etc/app.conf"] = "mode=prod\n", ["etc/other.conf"] = "x=1\n", ["etc/sub/deep.conf"] = "d\n" };

    private readonly TempTree _t = new("pods");
    private readonly CollectedLogs _logs = new();
    private readonly AgentIdentity _identity = new("node-a", "node-a.example.org", new Dictionary<string, string>());
    private KubePods _pods = null!;
    private StateStores _stores = null!;

    public async Task InitializeAsync()
    {
        _pods = await KubePods.StartAsync();
        _stores = new StateStores(new Fim.Agent.Cli.StateLocation(_t.State, _t.KeyFile), NullLogger<StateStores>.Instance);
    }

    public async Task DisposeAsync()
    {
        _stores.Dispose();
        await _pods.DisposeAsync();
        _t.Dispose();
    }

    private ContainerPolicyRunner Runner()
    {
        var spec = new PolicySpec
        {
            Name = "shop/web-files",
            Paths = [new PathRule { Path = "/etc" }],
            Pods = new PodSelectionSpec { Namespaces = ["shop"], MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
        };
        var policy = new AssignedPolicy("shop.web-files", spec.Name, 1, LabelSelector.Everything, PolicyCompiler.Compile(spec));
        var processes = new ContainerProcesses();
        var monitoring = new ContainerMonitoring(_stores, new Outbox(_stores, Options.Create(new AgentOptions())), new EventIdSource(_identity), _identity,
            new AgentStatus(), _pods.Directory, processes, new WorkloadResolver(_pods.Directory), _logs)
        { RecheckInterval = TimeSpan.FromMilliseconds(200), LinkDirectory = Path.Combine(_t.Root, "links") };
        return new ContainerPolicyRunner(policy, monitoring);
    }

    /// <summary>Every event waiting in the outboxes of the container baselines.</summary>
    private List<FileEvent> Events() =>
        [.. _stores.Open().SelectMany(s => s.Store.PeekPendingEvents(1000)).Select(e => JsonSerializer.Deserialize(e.Payload, ContractJson.Default.FileEvent)!)];

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public async Task A_change_inside_the_container_is_reported_with_the_container_path_and_the_pod()
    {
        var containerId = KubeletCgroup.NewContainerId();
        var pod = await _pods.RunAsync("shop", "web-0", "web", Image, containerId, owner: KubePods.Owner("StatefulSet", "web"),
            labels: new Dictionary<string, string> { ["app"] = "web" });
        // Not selected: another namespace, and the same labels.
        await _pods.RunAsync("other", "web-0", "web", Image, KubeletCgroup.NewContainerId(), labels: new Dictionary<string, string> { ["app"] = "web" });
        using var container = new FakeContainer(Path.Combine(_t.Root, "c"), pod.Metadata.Uid, containerId, Files);
        await using var runner = Runner();
        runner.Start();
        await Eventually.TrueAsync(() => runner.Containers.Count == 1 && BaselineHas(runner, "/etc/app.conf"), () => $"the container's /etc in a baseline; log:\n{_logs.Text}");

        Assert.Equal(container.Pid, runner.Containers[0].Pid);
        // The container's /etc, not the node's: the node has /etc/passwd, this container has none.
        Assert.False(BaselineHas(runner, "/etc/passwd"));
        Assert.True(BaselineHas(runner, "/etc/sub/deep.conf"));
        Assert.Empty(Events());

        container.Exec("echo debug=1 >> /etc/app.conf");

        var e = await AwaitEventAsync("/etc/app.conf");
        Assert.Equal("modified", e.Kind);
        Assert.Equal(Sha256("mode=prod\ndebug=1\n"), e.After?.Sha256);
        Assert.Equal("shop/web-files", e.Policy);
        var c = e.Container!;
        Assert.Equal((Workload.PodScope, "web-0", "shop", pod.Metadata.Uid), (c.Scope, c.PodName, c.PodNamespace, c.PodUid));
        Assert.Equal(("web", Image, containerId), (c.ContainerName, c.Image, c.ContainerId));
        Assert.Equal(("StatefulSet", "web"), (c.OwnerKind, c.OwnerName));
        Assert.DoesNotContain(Events(), x => !x.Path.StartsWith("/etc/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_restarted_container_is_compared_with_its_baseline_and_a_deleted_pod_is_dropped_with_it()
    {
        var firstId = KubeletCgroup.NewContainerId();
        var pod = await _pods.RunAsync("shop", "web-1", "web", Image, firstId, labels: new Dictionary<string, string> { ["app"] = "web" });
        var first = new FakeContainer(Path.Combine(_t.Root, "c"), pod.Metadata.Uid, firstId, Files);
        await using var runner = Runner();
        string key;
        try
        {
            runner.Start();
            await Eventually.TrueAsync(() => runner.Containers.Count == 1 && BaselineHas(runner, "/etc/app.conf"), () => $"the first container in a baseline; log:\n{_logs.Text}");
            key = runner.Containers[0].Key;
            first.Exec("echo debug=1 >> /etc/app.conf");
            await AwaitEventAsync("/etc/app.conf");
            AcknowledgeAll();
        }
        finally
        {
            first.Dispose();
        }

        // The kubelet restarts the container: new id, new process, a fresh upper layer over the same image.
        var secondId = KubeletCgroup.NewContainerId();
        using var second = new FakeContainer(Path.Combine(_t.Root, "c"), pod.Metadata.Uid, secondId, Files);
        var current = await _pods.Client.CoreV1.ReadNamespacedPodAsync("web-1", "shop");
        current.Status.ContainerStatuses[0].ContainerID = $"containerd://{secondId}";
        current.Status.ContainerStatuses[0].RestartCount = 1;
        await _pods.Client.CoreV1.ReplaceNamespacedPodStatusAsync(current, "web-1", "shop");

        await Eventually.TrueAsync(() => runner.Containers is [{ Pid: var pid }] && pid == second.Pid, () => $"the restarted container monitored; log:\n{_logs.Text}");
        // Only what differs from the baseline: app.conf is back to the image's content; nothing else is new.
        var e = await AwaitEventAsync("/etc/app.conf", secondId);
        Assert.Equal(Sha256("mode=prod\n"), e.After?.Sha256);
        Assert.Equal(key, runner.Containers[0].Key);
        var fromSecond = Events().Where(x => x.Container?.ContainerId == secondId).ToList();
        Assert.True(fromSecond.Count == 1, string.Join("; ", Events().Select(x => $"{x.Container?.ContainerId?[..8]} {x.Kind} {x.Path} [{string.Join(",", x.Changed)}]")));

        AcknowledgeAll();
        Assert.NotNull(AnchorEntryOf(key));
        await _pods.Client.CoreV1.DeleteNamespacedPodAsync("web-1", "shop", new V1DeleteOptions { GracePeriodSeconds = 0 });
        // Its entry in the anchor goes with it (removed before the directory): the anchor does not grow by one line
        // per container ever seen.
        await Eventually.TrueAsync(() => runner.Containers.Count == 0 && !Directory.Exists(_stores.DirectoryOf(key)), () => $"the deleted pod's baseline removed; log:\n{_logs.Text}");
        Assert.Null(AnchorEntryOf(key));
    }

    private Fim.Core.Baseline.AnchorEntry? AnchorEntryOf(string key) =>
        new Fim.Core.Baseline.BaselineAnchor(_stores.Location.AnchorFile, Fim.Core.Baseline.BaselineKey.LoadOrCreate(_t.KeyFile)).Get(_stores.DirectoryOf(key));

    private bool BaselineHas(ContainerPolicyRunner runner, string containerPath)
    {
        if (runner.Containers is not [{ Key: var key }])
        {
            return false;
        }
        var link = Path.Combine(_t.Root, "links", key);
        return _stores.Open().Any(s => s.Key == key && s.Store.Records.TryGet(PathBytes.FromString(link + containerPath), out _));
    }

    private async Task<FileEvent> AwaitEventAsync(string path, string? containerId = null)
    {
        FileEvent? found = null;
        await Eventually.TrueAsync(() => (found = Events().LastOrDefault(e => e.Path == path && (containerId is null || e.Container?.ContainerId == containerId))) is not null, () => $"an event for {path}; have: {string.Join(", ", Events().Select(e => $"{e.Kind} {e.Path}"))}; log:\n{_logs.Text}");
        return found!;
    }

    private void AcknowledgeAll()
    {
        foreach (var (_, store) in _stores.Open())
        {
            store.Acknowledge([.. store.PeekPendingEvents(1000).Select(e => e.Sequence)]);
        }
    }
}

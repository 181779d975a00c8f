using System.Text.Json;
using Fim.Agent.Connected;
using Fim.Agent.Kubernetes;
using Fim.Agent.Monitoring;
using Fim.Contracts;
using Fim.Core.Baseline;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Fim.Agent.Kubernetes.Tests;

/// <summary>
/// The connected agent's sink names the writer's workload on every event whose actor has a pid. No event source
/// sets a pid yet (fanotify will), so a stand-in who-source supplies the pid of a real writer process.
/// </summary>
[Collection("cgroups")]
public sealed class ActorWorkloadTests : IAsyncLifetime
{
    private readonly TempTree _t = new("actor");
    private readonly AgentIdentity _identity = new("node-a", "node-a", new Dictionary<string, string>());
    private KubePods _pods = null!;

    public async Task InitializeAsync() => _pods = await KubePods.StartAsync();

    public async Task DisposeAsync()
    {
        await _pods.DisposeAsync();
        _t.Dispose();
    }

    private List<FileEvent> Commit(int writerPid)
    {
        using var stores = new StateStores(new Fim.Agent.Cli.StateLocation(_t.State, _t.KeyFile), NullLogger<StateStores>.Instance);
        var store = stores.Acquire("p");
        var session = MonitorSession.Attach(new CompiledPolicy { Name = "p", Rules = [new CompiledPathRule { Root = PathBytes.FromString(_t.Root) }] }, store);
        var resolver = new WorkloadResolver(_pods.Directory);
        var sink = new OutboxSink(new Outbox(stores, Options.Create(new AgentOptions())), new EventIdSource(_identity), _identity.Origin, NullLogger.Instance, enrich: e =>
        {
            e.Actor = new Actor { Pid = writerPid };
            resolver.Attribute(e);
        });
        var before = new FileRecord { Path = PathBytes.FromString(_t.Root + "/f"), Type = FileType.Regular, Size = 1 };
        Assert.True(sink.Commit(session, new ChangeBatch([new BaselineUpdate(before.Path, before)], [], Snapshot: true)));
        store.Acknowledge([.. store.PeekPendingEvents(100).Select(e => e.Sequence)]);
        var after = new FileRecord { Path = before.Path, Type = FileType.Regular, Size = 2 };
        var change = new FileChange(ChangeKind.Modified, after.Path, before, after, ChangedAttributes.Size, DetectionSource.Realtime, DateTimeOffset.UtcNow);
        Assert.True(sink.Commit(session, new ChangeBatch([new BaselineUpdate(after.Path, after)], [change], Snapshot: false)));
        var events = store.PeekPendingEvents(100).Select(e => JsonSerializer.Deserialize(e.Payload, ContractJson.Default.FileEvent)!).ToList();
        stores.Release("p");
        return events;
    }

    [Fact]
    public async Task An_event_with_a_pid_in_a_pod_names_the_pod_and_one_from_the_node_says_node()
    {
        var containerId = KubeletCgroup.NewContainerId();
        var pod = await _pods.RunAsync("shop", "api-5f6d7c8b9-abcde", "api", "shop/api:2", containerId,
            owner: KubePods.Owner("ReplicaSet", "api-5f6d7c8b9"), labels: new Dictionary<string, string> { ["pod-template-hash"] = "5f6d7c8b9" });
        using var writer = new ChildProcess("sleep", ["300"], name: "writer");
        using var cgroup = KubeletCgroup.SystemdV2(pod.Metadata.Uid, containerId);
        cgroup.Add(writer.Id);
        await Eventually.TrueAsync(() => _pods.Directory.ByContainerId(containerId) is not null, "the pod in the directory");

        var e = Assert.Single(Commit(writer.Id));
        var w = e.Actor!.Workload!;
        Assert.Equal(writer.Id, e.Actor.Pid);
        Assert.Equal(("api-5f6d7c8b9-abcde", "shop", "api", "Deployment", "api"), (w.PodName, w.PodNamespace, w.ContainerName, w.OwnerKind, w.OwnerName));
        Assert.Null(e.Container);

        using var onNode = new ChildProcess("sleep", ["300"], name: "node writer");
        var node = Assert.Single(Commit(onNode.Id));
        Assert.Equal(Workload.NodeScope, node.Actor!.Workload!.Scope);
    }
}

using System.Text.Json;
using Fim.Contracts;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Fim.Agent.Kubernetes.Tests;

/// <summary>
/// Issue 13, acceptance 2, end to end: the real `fim-agent run` on fanotify with the eBPF process table, its pod
/// watch pointed at the API double (kubernetes.apiServer, tokenFile, nodeName), a real nats-server, and real
/// short-lived writers (`sh -c 'echo $$ >> FILE'`, exiting at once) started inside a cgroup named as the kubelet
/// names a container's, and outside any pod. The events the agent stores in FIM_EVENTS name pod, namespace,
/// container and workload, with the writer's executable and uid; the node's writer is reported as the node.
/// </summary>
[Collection("cgroups")]
public sealed class AgentPodAttributionTests : IAsyncLifetime
{
    private readonly TempTree _t = new("podwho");
    private KubePods _pods = null!;
    private NatsServer _nats = null!;
    private NatsConnection _admin = null!;

    private string Watched => Path.Combine(_t.Root, "w");

    public async Task InitializeAsync()
    {
        _pods = await KubePods.StartAsync();
        _nats = await NatsServer.StartAsync();
        _admin = new NatsConnection(NatsOpts.Default with { Url = _nats.Url });
        await _admin.ConnectAsync();
        var js = new NatsJSContext(_admin);
        await js.CreateStreamAsync(new StreamConfig(Subjects.EventsStream, [Subjects.AllEvents]) { Storage = StreamConfigStorage.File });
        var kv = new NatsKVContext(js);
        await kv.CreateStoreAsync(new NatsKVConfig(Subjects.PoliciesBucket));
        await kv.CreateStoreAsync(new NatsKVConfig(Subjects.AgentsBucket));
    }

    public async Task DisposeAsync()
    {
        await _admin.DisposeAsync();
        await _nats.DisposeAsync();
        await _pods.DisposeAsync();
        _t.Dispose();
    }

    [Fact]
    public async Task A_short_lived_writer_in_a_pod_cgroup_is_named_with_its_pod_and_one_on_the_node_as_the_node()
    {
        var containerId = KubeletCgroup.NewContainerId();
        var pod = await _pods.RunAsync("shop", "api-5f6d7c8b9-abcde", "api", "shop/api:2", containerId,
            owner: KubePods.Owner("ReplicaSet", "api-5f6d7c8b9"), labels: new Dictionary<string, string> { ["pod-template-hash"] = "5f6d7c8b9" });
        Directory.CreateDirectory(Watched);
        foreach (var f in new[] { "in-pod.conf", "on-node.conf" })
        {
            File.WriteAllText(Path.Combine(Watched, f), "");
            File.SetUnixFileMode(Path.Combine(Watched, f), (UnixFileMode)0b110_110_110);
        }
        File.SetUnixFileMode(_t.Root, (UnixFileMode)0b111_101_101);

        using var agent = StartAgent();
        agent.AwaitLog("realtime detection on", TimeSpan.FromSeconds(90));
        agent.AwaitLog("1 pods on node \\\"node-a\\\"", TimeSpan.FromSeconds(30));
        Assert.Contains("fanotify-ebpf", agent.Stderr);

        // The writer is the container's: it joins the pod's cgroup, then execs the shell that writes, as a runtime
        // starts a container's process (cgroup first, then exec), under another uid.
        using var cgroup = KubeletCgroup.SystemdV2(pod.Metadata.Uid, containerId);
        var inPod = Path.Combine(Watched, "in-pod.conf");
        ChildProcess.Run("/bin/sh", ["-c", """echo $$ > "$1/cgroup.procs" && exec setpriv --reuid=2001 --regid=2001 --clear-groups /bin/sh -c 'echo $$ >> "$0"' "$2" """,
            "sh", cgroup.Directory, inPod]).EnsureSuccess();
        var onNode = Path.Combine(Watched, "on-node.conf");
        ChildProcess.Run("setpriv", ["--reuid=2002", "--regid=2002", "--clear-groups", "/bin/sh", "-c", "echo $$ >> \"$0\"", onNode]).EnsureSuccess();

        var sh = ChildProcess.Run("realpath", ["/bin/sh"]).EnsureSuccess().Stdout.Trim();
        var events = await AwaitModifiedAsync([inPod, onNode], agent);

        var e = events[inPod];
        var actor = e.Actor!;
        Assert.True(actor.Unknown is null, $"the pod's writer was not named: {actor.Unknown}");
        Assert.Equal((int.Parse(File.ReadAllText(inPod).Trim()), sh, 2001u), (actor.Pid!.Value, actor.Executable, actor.Uid!.Value));
        var w = actor.Workload!;
        Assert.Equal(Workload.PodScope, w.Scope);
        Assert.Equal(("api-5f6d7c8b9-abcde", "shop", pod.Metadata.Uid), (w.PodName, w.PodNamespace, w.PodUid));
        Assert.Equal(("api", containerId, "shop/api:2"), (w.ContainerName, w.ContainerId, w.Image));
        Assert.Equal(("Deployment", "api"), (w.OwnerKind, w.OwnerName));

        var n = events[onNode].Actor!;
        Assert.True(n.Unknown is null, $"the node's writer was not named: {n.Unknown}");
        Assert.Equal((int.Parse(File.ReadAllText(onNode).Trim()), sh, 2002u), (n.Pid!.Value, n.Executable, n.Uid!.Value));
        Assert.Equal(Workload.NodeScope, n.Workload!.Scope);
        Assert.Null(n.Workload.PodName);
    }

    private ChildProcess StartAgent()
    {
        var policy = Path.Combine(_t.Root, "policy.yaml");
        File.WriteAllText(policy, $"name: pods-who\npaths:\n  - path: {Watched}\n");
        var token = Path.Combine(_t.Root, "token");
        File.WriteAllText(token, "test-token\n");
        var config = Path.Combine(_t.Root, "agent.yaml");
        File.WriteAllText(config, $"""
            agentId: node-a
            nats:
              url: {_nats.Url}
            stateDir: {_t.State}
            keyFile: {_t.KeyFile}
            policyFile: {policy}
            heartbeatInterval: 2s
            kubernetes:
              enabled: true
              apiServer: {_pods.Server.Url}
              tokenFile: {token}
              nodeName: {KubePods.Node}
              containerLinkDir: {Path.Combine(_t.Root, "links")}
            """);
        var (file, args) = Programs.AgentCommand(["run", "--config", config]);
        return new ChildProcess(file, args, new Dictionary<string, string> { ["NO_COLOR"] = "1" }, name: "fim-agent");
    }

    /// <summary>The first "modified" event of each path, as stored in FIM_EVENTS.</summary>
    private async Task<Dictionary<string, FileEvent>> AwaitModifiedAsync(string[] paths, ChildProcess agent)
    {
        var js = new NatsJSContext(_admin);
        var found = new Dictionary<string, FileEvent>();
        await Eventually.TrueAsync(async () =>
        {
            found.Clear();
            foreach (var m in await StreamContents.ReadAllAsync(js, Subjects.EventsStream))
            {
                if (m.Kind == "modified" && paths.Contains(m.Path))
                {
                    found.TryAdd(m.Path, JsonSerializer.Deserialize(m.Body.GetRawText(), ContractJson.Default.FileEvent)!);
                }
            }
            return found.Count == paths.Length;
        }, () => $"modified events for {string.Join(", ", paths)}, have {string.Join(", ", found.Keys)}; agent log:\n{agent.Stderr}", TimeSpan.FromSeconds(60));
        return found;
    }
}

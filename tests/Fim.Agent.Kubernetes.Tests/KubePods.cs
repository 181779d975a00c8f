using Fim.Agent.Kubernetes;
using Fim.Testing;
using Fim.Testing.KubeApi;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fim.Agent.Kubernetes.Tests;

/// <summary>The API double serving pods of one node, and the agent's watcher filling a directory from it.</summary>
public sealed class KubePods : IAsyncDisposable
{
    public const string Node = "node-a";

    private readonly CancellationTokenSource _stop = new();
    private Task? _watch;
    private KubePodWatcher? _watcher;

    private KubePods(KubeApiServer server) => Server = server;

    public KubeApiServer Server { get; }

    public IKubernetes Client { get; private set; } = null!;

    public PodDirectory Directory { get; } = new();

    public static async Task<KubePods> StartAsync()
    {
        var server = new KubeApiServer(new KubeApiServerOptions { BookmarkInterval = TimeSpan.FromMilliseconds(500) });
        await server.StartAsync();
        var pods = new KubePods(server) { Client = server.CreateClient() };
        pods._watcher = new KubePodWatcher(new KubeApiEndpoint(new Uri(server.Url), null, null), Node, pods.Directory, NullLogger.Instance, TimeSpan.FromMilliseconds(200));
        pods._watch = pods._watcher.RunAsync(pods._stop.Token);
        await Eventually.TrueAsync(() => pods.Directory.Synced, "the first pod list");
        return pods;
    }

    /// <summary>Creates a running pod on <paramref name="node"/> with one container whose status carries <paramref name="containerId"/>.</summary>
    public async Task<V1Pod> RunAsync(string ns, string name, string container, string image, string containerId, string runtime = "containerd",
        V1OwnerReference? owner = null, IDictionary<string, string>? labels = null, string node = Node)
    {
        if (ns != "default")
        {
            try
            {
                await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
            }
        }
        if (owner is not null)
        {
            // The double collects a pod whose owner uid does not exist, as the garbage collector would; it matches
            // owners by uid only, so a ConfigMap stands in for the controller object the agent never reads.
            var stand = await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = $"owner-{name}", NamespaceProperty = ns } }, ns);
            owner.Uid = stand.Metadata.Uid;
        }
        var pod = await Client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels, OwnerReferences = owner is null ? null : [owner] },
            Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = container, Image = image }] },
        }, ns);
        pod.Status = new V1PodStatus
        {
            Phase = "Running",
            ContainerStatuses = [new V1ContainerStatus { Name = container, Image = image, ImageID = "", ContainerID = $"{runtime}://{containerId}", Ready = true, RestartCount = 0 }],
        };
        return await Client.CoreV1.ReplaceNamespacedPodStatusAsync(pod, name, ns);
    }

    public static V1OwnerReference Owner(string kind, string name, string apiVersion = "apps/v1") =>
        new() { ApiVersion = apiVersion, Kind = kind, Name = name, Uid = Guid.NewGuid().ToString(), Controller = true };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_watch is not null)
        {
            await _watch;
        }
        _watcher?.Dispose();
        Client.Dispose();
        await Server.DisposeAsync();
        _stop.Dispose();
    }
}

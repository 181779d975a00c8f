using Fim.Operator.Api;
using Fim.Operator.Controllers.Policy;
using Fim.Operator.Crds;
using Fim.Operator.Runtime;
using Fim.Testing.KubeApi;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fim.Operator.Tests.Support;

/// <summary>The API double with the CRDs registered, and operator instances running against it.</summary>
internal sealed class OperatorHarness : IAsyncDisposable
{
    private readonly List<(CancellationTokenSource Stop, Task Run, Kubernetes Client)> _operators = [];

    private OperatorHarness(KubeApiServer server, Kubernetes client)
    {
        Server = server;
        Client = client;
    }

    public KubeApiServer Server { get; }

    public Kubernetes Client { get; }

    public static async Task<OperatorHarness> StartAsync(Action<KubeApiServerOptions>? configure = null, bool registerCrds = true)
    {
        var options = new KubeApiServerOptions { BookmarkInterval = TimeSpan.FromMilliseconds(500) };
        configure?.Invoke(options);
        var server = new KubeApiServer(options);
        await server.StartAsync();
        var client = server.CreateClient();
        foreach (var crd in registerCrds ? new[] { CrdGenerator.Policy(), CrdGenerator.Pool() } : [])
        {
            await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        }

        // The store Secret Samples.Pool names, so a sample pool is not Degraded for want of it.
        await client.CoreV1.CreateNamespacedSecretAsync(new k8s.Models.V1Secret
        {
            Metadata = new k8s.Models.V1ObjectMeta { Name = Samples.StoreSecret },
            StringData = new Dictionary<string, string> { [Samples.StoreSecretKey] = "Host=db;Database=fim" },
        }, "default");

        return new OperatorHarness(server, client);
    }

    public static OperatorOptions FastOptions(string identity) => new()
    {
        MetricsAddress = new BindAddress("", 0),
        HealthAddress = new BindAddress("", 0),
        LeaderElection = new LeaderElectionOptions
        {
            Identity = identity,
            // Generous against a stalled CI machine: a missed renewal restarts the controllers mid-test. Stopping an
            // instance releases the Lease, so a hand-over still takes one retry period, not a lease duration.
            LeaseDuration = TimeSpan.FromSeconds(6),
            RenewDeadline = TimeSpan.FromSeconds(4),
            RetryPeriod = TimeSpan.FromMilliseconds(200),
        },
        Controllers = new ControllerOptions { Workers = 4, ResyncPeriod = TimeSpan.FromMinutes(10), BaseBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromSeconds(1) },
        Informers = new InformerOptions { WatchTimeout = TimeSpan.FromMinutes(5), RetryDelay = TimeSpan.FromMilliseconds(100) },
        Policies = new PolicyControllerOptions { StatusRefresh = TimeSpan.FromMinutes(10) },
        PoolRefresh = TimeSpan.FromMinutes(10),
        AgentsCoalesce = TimeSpan.FromMilliseconds(100),
    };

    /// <summary>Every request any operator instance of this harness sent.</summary>
    public RequestRecorder OperatorRequests { get; } = new();

    public OperatorRunner StartOperator(IPolicyStore store, IAgentDirectory agents, OperatorOptions? options = null, ILoggerFactory? loggers = null,
        Controllers.NodeStatus.NodeStatusSetup? nodeStatus = null)
    {
        var client = new Kubernetes(Server.ClientConfiguration(), new SharedRecorder(OperatorRequests), new KubeClientHandler(new KubeClientOptions { Qps = 0 }));
        var runner = new OperatorRunner(client, store, agents, options ?? FastOptions("op-" + _operators.Count), loggers ?? NullLoggerFactory.Instance) { NodeStatus = nodeStatus };
        var stop = new CancellationTokenSource();
        _operators.Add((stop, Task.Run(() => runner.RunAsync(stop.Token)), client));
        _runners.Add(runner);
        return runner;
    }

    public async Task StopOperatorAsync(OperatorRunner runner) => await StopAsync(_runners.IndexOf(runner));

    private readonly List<OperatorRunner> _runners = [];

    private async Task StopAsync(int i)
    {
        if (i < 0 || i >= _operators.Count)
        {
            return;
        }

        var (stop, run, _) = _operators[i];
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
    }

    public GenericResources Policies => new(Client, FimPolicy.Plural);

    public GenericResources Pools => new(Client, FimManagerPool.Plural);

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < _operators.Count; i++)
        {
            await StopAsync(i);
            _operators[i].Client.Dispose();
            _operators[i].Stop.Dispose();
        }

        Client.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>Typed CRUD of one fim.io kind for tests.</summary>
internal sealed class GenericResources(Kubernetes client, string plural)
{
    public async Task<T> CreateAsync<T>(T obj)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var json = KubernetesJson.Serialize(obj);
        var created = await client.CustomObjects.CreateNamespacedCustomObjectAsync(KubernetesJson.Deserialize<object>(json), FimApi.Group, FimApi.Version, obj.Metadata.NamespaceProperty ?? "default", plural);
        return KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(created));
    }

    public async Task<T?> GetAsync<T>(string name, string ns = "default")
    {
        try
        {
            var o = await client.CustomObjects.GetNamespacedCustomObjectAsync(FimApi.Group, FimApi.Version, ns, plural, name);
            return KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(o));
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return default;
        }
    }

    public async Task ReplaceAsync<T>(T obj)
        where T : IKubernetesObject<V1ObjectMeta> =>
        await client.CustomObjects.ReplaceNamespacedCustomObjectAsync(KubernetesJson.Deserialize<object>(KubernetesJson.Serialize(obj)), FimApi.Group, FimApi.Version, obj.Metadata.NamespaceProperty ?? "default", plural, obj.Metadata.Name);

    /// <summary>Read-modify-write, retried on 409 like any client racing a controller's status writes.</summary>
    public async Task UpdateAsync<T>(string name, Action<T> edit, string ns = "default")
        where T : IKubernetesObject<V1ObjectMeta>
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = (await GetAsync<T>(name, ns))!;
            edit(current);
            try
            {
                await ReplaceAsync(current);
                return;
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict && attempt < 10)
            {
            }
        }
    }

    public async Task DeleteAsync(string name, string ns = "default") =>
        await client.CustomObjects.DeleteNamespacedCustomObjectAsync(FimApi.Group, FimApi.Version, ns, plural, name);
}

/// <summary>Forwards to one shared recorder (a handler instance can belong to one client only).</summary>
internal sealed class SharedRecorder(RequestRecorder recorder) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        recorder.Seen.AddOrUpdate(RequestRecorder.Classify(request.Method.Method, request.RequestUri!), 1, (_, n) => n + 1);
        return base.SendAsync(request, cancellationToken);
    }
}

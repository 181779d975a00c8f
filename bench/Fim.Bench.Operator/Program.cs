using System.Collections.Concurrent;
using System.Diagnostics;
using Fim.Contracts;
using Fim.Operator;
using Fim.Operator.Api;
using Fim.Operator.Crds;
using Fim.Operator.Nats;
using Fim.Operator.Runtime;
using Fim.Testing;
using Fim.Testing.KubeApi;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;

// usage: dotnet run -c Release --project bench/Fim.Bench.Operator -- [--policies 500] [--pools 20] [--workers 4]
var policies = Arg("--policies", 500);
var pools = Arg("--pools", 20);
var workers = Arg("--workers", 4);

await using var server = new KubeApiServer(new KubeApiServerOptions());
await server.StartAsync();
using var client = server.CreateClient();
foreach (var crd in new[] { CrdGenerator.Policy(), CrdGenerator.Pool() })
{
    await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
}

await using var nats = await NatsServer.StartAsync();
await using var connection = new NatsConnection(NatsOpts.Default with { Url = nats.Url });
var store = new NatsPolicyStore(await NatsBuckets.OpenAsync(connection, Subjects.PoliciesBucket, CancellationToken.None));
var agents = new NatsAgentDirectory(await NatsBuckets.OpenAsync(connection, Subjects.AgentsBucket, CancellationToken.None), NullLogger.Instance);

var recorder = new Recorder();
using var operatorClient = new Kubernetes(server.ClientConfiguration(), recorder);
var options = new OperatorOptions
{
    MetricsAddress = new BindAddress("", 0),
    HealthAddress = new BindAddress("", 0),
    Controllers = new ControllerOptions { Workers = workers },
    LeaderElection = new LeaderElectionOptions { Identity = "bench" },
};
var runner = new OperatorRunner(operatorClient, store, agents, options, NullLoggerFactory.Instance);
using var stop = new CancellationTokenSource();
var agentsRun = agents.RunAsync(stop.Token);
var run = runner.RunAsync(stop.Token);
while (runner.Policies is null || runner.Pools is null || !runner.Policies.Informer.Synced.IsCompleted || !runner.Pools.Informer.Synced.IsCompleted)
{
    await Task.Delay(20);
}

recorder.Seen.Clear();
Console.WriteLine($"creating {policies} FimPolicies and {pools} FimManagerPools at once ({workers} workers per controller)");
var clock = Stopwatch.StartNew();
var items = Enumerable.Range(0, policies).Select(i => (Kind: "p", I: i)).Concat(Enumerable.Range(0, pools).Select(i => (Kind: "m", I: i)));
await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (item, ct) =>
{
    if (item.Kind == "p")
    {
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(Policy($"p{item.I:D4}"), FimApi.Group, FimApi.Version, "default", FimPolicy.Plural, cancellationToken: ct);
    }
    else
    {
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(Pool($"pool{item.I:D2}"), FimApi.Group, FimApi.Version, "default", FimManagerPool.Plural, cancellationToken: ct);
    }
});
var created = clock.Elapsed;

var deadline = TimeSpan.FromMinutes(5);
while (true)
{
    var p = await client.CustomObjects.ListNamespacedCustomObjectAsync<CustomResourceList<FimPolicy>>(FimApi.Group, FimApi.Version, "default", FimPolicy.Plural);
    var m = await client.CustomObjects.ListNamespacedCustomObjectAsync<CustomResourceList<FimManagerPool>>(FimApi.Group, FimApi.Version, "default", FimManagerPool.Plural);
    var pdbs = await client.PolicyV1.ListNamespacedPodDisruptionBudgetAsync("default");
    var publishedPolicies = p.Items.Count(x => x.Status?.PublishedRevision == 1 && Conditions.IsTrue(x.Status.Conditions, "Accepted"));
    var readyPools = m.Items.Count(x => x.Status?.ObservedGeneration == 1);
    if (publishedPolicies == policies && readyPools == pools && pdbs.Items.Count == pools)
    {
        break;
    }

    if (clock.Elapsed > deadline)
    {
        Console.WriteLine($"NOT converged after {deadline}: {publishedPolicies}/{policies} policies, {readyPools}/{pools} pools");
        return 1;
    }

    await Task.Delay(50);
}

var converged = clock.Elapsed;
var requests = recorder.Seen.ToDictionary(kv => kv.Key, kv => kv.Value);
var total = requests.Values.Sum();
var objects = policies + pools;
Console.WriteLine($"created in {created.TotalSeconds:F2} s; converged {converged.TotalSeconds:F2} s after the first create");
Console.WriteLine($"operator API requests: {total} for {objects} custom resources = {(double)total / objects:F2} per object");
Console.WriteLine($"  per FimPolicy: {(double)Count(requests, "fimpolicies") / policies:F2}; per FimManagerPool (incl. its 5 children and events): {(double)(total - Count(requests, "fimpolicies") - Count(requests, "leases") - EventsFor(requests, policies)) / pools:F2}");
foreach (var (key, n) in requests.OrderBy(kv => kv.Key.Resource).ThenBy(kv => kv.Key.Verb))
{
    Console.WriteLine($"  {n,6}  {key.Verb,-7} {(key.Group.Length > 0 ? key.Group + "/" : "")}{key.Resource}");
}

// Steady state: a fresh instance (restart/failover) reconciles everything again with nothing to change.
await stop.CancelAsync();
await run.ContinueWith(_ => { });
recorder.Seen.Clear();
using var stop2 = new CancellationTokenSource();
var again = new OperatorRunner(operatorClient, store, agents, options with { LeaderElection = options.LeaderElection with { Enabled = false } }, NullLoggerFactory.Instance);
clock.Restart();
var run2 = again.RunAsync(stop2.Token);
while (again.Policies is null || again.Pools is null || again.Policies.Reconciles < policies || again.Pools.Reconciles < pools || again.Policies.Queue.Depth > 0)
{
    await Task.Delay(20);
}

var writes = recorder.Seen.Where(kv => kv.Key.Verb is "create" or "update" or "patch" or "delete").Sum(kv => kv.Value);
Console.WriteLine($"restart: all {objects} reconciled again in {clock.Elapsed.TotalSeconds:F2} s with {recorder.Seen.Values.Sum()} requests ({writes} writes)");
await stop2.CancelAsync();
await run2.ContinueWith(_ => { });
await stop.CancelAsync();
await agentsRun.ContinueWith(_ => { });
return 0;

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}

static long Count(Dictionary<(string Verb, string Group, string Resource), long> r, string resource) =>
    r.Where(kv => kv.Key.Resource.StartsWith(resource, StringComparison.Ordinal)).Sum(kv => kv.Value);

static long EventsFor(Dictionary<(string Verb, string Group, string Resource), long> r, int policies) =>
    Math.Min(policies, Count(r, "events"));

static object Policy(string name) => KubernetesJson.Deserialize<object>(KubernetesJson.Serialize(new FimPolicy
{
    Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
    Spec = new FimPolicySpec
    {
        Selector = new AgentSelector { MatchLabels = new() { ["fim.io/profile"] = "pci" } },
        Paths = [new FimPathRule { Path = "/etc", Exclude = ["*.swp"] }, new FimPathRule { Path = "/usr/bin", Hashes = ["sha256"] }],
        Tags = ["pci_dss:11.5"],
    },
}));

static object Pool(string name) => KubernetesJson.Deserialize<object>(KubernetesJson.Serialize(new FimManagerPool
{
    Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
    Spec = new FimManagerPoolSpec { Image = "ghcr.io/fimoperator/fim-manager:0.1.0", Nats = new PoolNats { Url = "nats://nats:4222" } },
}));

/// <summary>Counts the operator's requests by RBAC verb, group and resource.</summary>
internal sealed class Recorder : DelegatingHandler
{
    public ConcurrentDictionary<(string Verb, string Group, string Resource), long> Seen { get; } = new();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var parts = request.RequestUri!.AbsolutePath.Trim('/').Split('/');
        var (group, i) = parts[0] == "api" ? ("", 2) : (parts[1], 3);
        if (i < parts.Length && parts[i] == "namespaces" && i + 2 < parts.Length)
        {
            i += 2;
        }

        var resource = parts[i] + (i + 2 < parts.Length ? "/" + parts[i + 2] : "");
        var named = i + 1 < parts.Length;
        var verb = request.Method.Method switch
        {
            "GET" when request.RequestUri.Query.Contains("watch=true") => "watch",
            "GET" => named ? "get" : "list",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            _ => "delete",
        };
        Seen.AddOrUpdate((verb, group, resource), 1, (_, n) => n + 1);
        return base.SendAsync(request, cancellationToken);
    }
}

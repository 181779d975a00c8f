using System.Diagnostics;
using System.Text.Json;
using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Crds;
using Fim.Operator.Nats;
using Fim.Testing;
using Fim.Testing.KubeApi;
using k8s;
using k8s.Models;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;

// usage: dotnet run -c Release --project bench/Fim.Bench.NodeStatus -- [--nodes 5000] [--heartbeat 30] [--changed 500] [--quiet 180] [--qps 0]
// N agents on N Nodes, each putting the real Heartbeat contract (one policy, with its drift) into KV fim-agents every
// --heartbeat seconds; fim-operator runs as its own process against the API double. Measures: time until every node has
// its FimNodeStatus; the lag between --changed nodes reporting drift and their statuses saying so; API writes of
// FimNodeStatus per node per hour over --quiet seconds with nothing changing; the operator's memory (VmRSS, VmHWM).
var nodes = Arg("--nodes", 5000);
var heartbeat = TimeSpan.FromSeconds(Arg("--heartbeat", 30));
var changedCount = Math.Min(Arg("--changed", 500), nodes);
var quiet = TimeSpan.FromSeconds(Arg("--quiet", 180));
var qps = Arg("--qps", 0); // 0: the operator's default, no client-side limit

await using var server = new KubeApiServer(new KubeApiServerOptions());
await server.StartAsync();
using var client = server.CreateClient();
foreach (var crd in new[] { CrdGenerator.Policy(), CrdGenerator.Pool(), CrdGenerator.NodeStatus() })
{
    await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
}

var work = Directory.CreateTempSubdirectory("fim-bench-nodestatus-");
var kubeconfig = Path.Combine(work.FullName, "kubeconfig");
server.WriteKubeconfig(kubeconfig);
await using var nats = await NatsServer.StartAsync();
await using var connection = new NatsConnection(NatsOpts.Default with { Url = nats.Url });
var bucket = await NatsBuckets.OpenAsync(connection, Subjects.AgentsBucket, CancellationToken.None);

var clock = Stopwatch.StartNew();
await Parallel.ForEachAsync(Enumerable.Range(0, nodes), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
    await client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = Node(i), Labels = new Dictionary<string, string> { ["fim.io/profile"] = "pci" } } }, cancellationToken: ct));
await client.CustomObjects.CreateNamespacedCustomObjectAsync(new FimPolicy
{
    Metadata = new V1ObjectMeta { Name = "pci", NamespaceProperty = "default" },
    Spec = new FimPolicySpec { Paths = [new FimPathRule { Path = "/etc" }], Selector = new AgentSelector { MatchLabels = new() { ["fim.io/profile"] = "pci" } } },
}, FimApi.Group, FimApi.Version, "default", FimPolicy.Plural);
Console.WriteLine($"{nodes} Nodes and the FimPolicy created in {clock.Elapsed.TotalSeconds:0.0} s");

// The agents: drift per node (what the next heartbeat says), one heartbeat per node per interval, spread over it.
var since = DateTimeOffset.UtcNow;
var drift = new long[nodes];
using var stop = new CancellationTokenSource();
long puts = 0;
var agents = Task.Run(async () =>
{
    var tick = heartbeat / nodes;
    var next = Stopwatch.StartNew();
    for (var round = 0; !stop.IsCancellationRequested; round++)
    {
        for (var i = 0; i < nodes && !stop.IsCancellationRequested; i++)
        {
            await bucket.PutAsync(Node(i), ContractJson.ToUtf8(Heartbeat(i, Interlocked.Read(ref drift[i]))));
            Interlocked.Increment(ref puts);
            var due = tick * ((long)round * nodes + i + 1);
            if (next.Elapsed < due)
            {
                await Task.Delay(due - next.Elapsed);
            }
        }
    }
});

var op = ChildProcess.Dotnet(Repository.BuiltDll("Fim.Operator", "fim-operator.dll"),
    ["run", "--kubeconfig", kubeconfig, "--nats-url", nats.Url, "--metrics-bind-address", "127.0.0.1:0", "--health-bind-address", "127.0.0.1:0",
     "--kube-api-qps", qps.ToString(), "--kube-api-burst", Math.Max(qps, 30).ToString()],
    new Dictionary<string, string> { ["FIM_LOG_LEVEL"] = "warning" });
clock.Restart();
var statuses = await WaitAsync(s => s.Count == nodes && s.Values.All(v => v.Result == "clean"), "every node clean", TimeSpan.FromMinutes(30));
Console.WriteLine($"operator (--kube-api-qps {qps}): all {nodes} FimNodeStatus objects created and clean {clock.Elapsed.TotalSeconds:0.0} s after its start ({Interlocked.Read(ref puts)} heartbeats put so far)");
Memory("after creating them");

// Drift on some nodes: how long until their statuses say so (the agents report it at their next heartbeat).
var changed = Enumerable.Range(0, nodes).OrderBy(_ => Random.Shared.Next()).Take(changedCount).ToHashSet();
server.ResetRequestCounts();
clock.Restart();
foreach (var i in changed)
{
    Interlocked.Exchange(ref drift[i], 1);
}

statuses = await WaitAsync(s => changed.All(i => s.TryGetValue(Node(i), out var v) && v.Result == "changed"), $"{changedCount} nodes changed", TimeSpan.FromMinutes(10));
var wrong = statuses.Count(s => (s.Value.Result == "changed") != changed.Contains(int.Parse(s.Key[5..])));
Console.WriteLine($"{changedCount} nodes drifted: every status said so {clock.Elapsed.TotalSeconds:0.0} s later (heartbeat interval {heartbeat.TotalSeconds:0} s); statuses wrong: {wrong}; "
    + $"writes: {Writes()} applies, {server.RequestCount("create", "events")} events");

// Nothing changing: writes per node per hour.
await Task.Delay(TimeSpan.FromSeconds(5));
server.ResetRequestCounts();
var putsBefore = Interlocked.Read(ref puts);
clock.Restart();
await Task.Delay(quiet);
var writes = Writes() + server.RequestCount("delete", "fimnodestatuses", FimApi.Group);
Console.WriteLine($"nothing changing for {clock.Elapsed.TotalSeconds:0} s ({Interlocked.Read(ref puts) - putsBefore} heartbeats): {writes} FimNodeStatus writes "
    + $"= {writes / (double)nodes / clock.Elapsed.TotalHours:0.####} per node per hour; all requests: "
    + string.Join(", ", server.RequestCounts.Where(kv => kv.Value > 0).Select(kv => $"{kv.Key}={kv.Value}")));
Memory("at the end");

await stop.CancelAsync();
await agents.ContinueWith(_ => { }, TaskScheduler.Default);
op.Dispose();
work.Delete(recursive: true);
return 0;

long Writes() => server.RequestCount("patch", "fimnodestatuses", FimApi.Group);

void Memory(string when)
{
    var status = File.ReadAllLines($"/proc/{op.Pid}/status");
    Console.WriteLine($"operator memory {when}: " + string.Join(", ", status.Where(l => l.StartsWith("VmRSS", StringComparison.Ordinal) || l.StartsWith("VmHWM", StringComparison.Ordinal)).Select(l => string.Join(' ', l.Split(default(char[]), StringSplitOptions.RemoveEmptyEntries)))));
}

async Task<Dictionary<string, (string? Result, long Added)>> WaitAsync(Func<Dictionary<string, (string? Result, long Added)>, bool> done, string what, TimeSpan timeout)
{
    var deadline = Stopwatch.StartNew();
    while (true)
    {
        var list = await client.CustomObjects.ListNamespacedCustomObjectAsync(FimApi.Group, FimApi.Version, "default", FimNodeStatus.Plural);
        var map = new Dictionary<string, (string? Result, long Added)>();
        foreach (var item in ((JsonElement)list).GetProperty("items").EnumerateArray())
        {
            var status = item.TryGetProperty("status", out var s) ? s : default;
            map[item.GetProperty("spec").GetProperty("node").GetString()!] = (
                status.ValueKind == JsonValueKind.Object && status.TryGetProperty("result", out var r) ? r.GetString() : null,
                status.ValueKind == JsonValueKind.Object && status.TryGetProperty("added", out var a) ? a.GetInt64() : 0);
        }

        if (done(map))
        {
            return map;
        }

        if (deadline.Elapsed > timeout || op.HasExited)
        {
            throw new TimeoutException($"{what}: not after {deadline.Elapsed.TotalSeconds:0} s ({map.Count} statuses); operator output:\n{op.Output}");
        }

        await Task.Delay(1000);
    }
}

Heartbeat Heartbeat(int i, long added) => new()
{
    AgentId = Node(i),
    Hostname = Node(i),
    Version = "1.0.0.0",
    BootId = "bench",
    Labels = new Dictionary<string, string> { ["fim.io/profile"] = "pci" },
    AppliedPolicies = new Dictionary<string, long> { ["default/pci"] = 1 },
    PolicyErrors = new Dictionary<string, string>(),
    Policies = [new HeartbeatPolicy("default.pci", "default/pci", 1, "running", null, "digest",
        new HeartbeatScan("default/pci", "startup", since, 1200, 0, 85, 0), new HeartbeatDrift(added, 0, 0, since))],
    BaselineDigest = "digest",
    Outbox = new HeartbeatOutbox(0, 0, 100_000, false, 0),
    Time = DateTimeOffset.UtcNow,
};

static string Node(int i) => $"node-{i:D5}";

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
}

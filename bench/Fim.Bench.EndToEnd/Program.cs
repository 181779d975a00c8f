using Fim.Contracts;
// End-to-end latency on loopback: file written (close) -> agent event -> JetStream -> manager -> alert stored in
// FIM_ALERTS, seen by a subscriber on fim.alerts.>. Real processes: nats-server, N managers, the agent.
// Usage: dotnet run -c Release --project bench/Fim.Bench.EndToEnd -- [--files 300] [--interval-ms 20] [--managers 1]
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Fim.EndToEnd.Tests;
using NATS.Client.Core;

var files = IntArg("--files", 300);
var intervalMs = IntArg("--interval-ms", 20);
var managers = IntArg("--managers", 1);

await using var p = await Pipeline.StartAsync(managers);
var paths = Enumerable.Range(0, files).Select(i => Path.Combine(p.Tree, $"f{i:D4}")).ToList();
paths.ForEach(f => File.WriteAllText(f, "initial"));
await p.StartAgentAsync();

await using var nats = new NatsConnection(new NatsOpts { Url = p.Server.Url, Name = "bench" });
var stored = new ConcurrentDictionary<string, long>();
using var cts = new CancellationTokenSource();
var subscription = Task.Run(async () =>
{
    await foreach (var m in nats.SubscribeAsync<byte[]>(Subjects.AllAlerts, cancellationToken: cts.Token))
    {
        var now = Stopwatch.GetTimestamp();
        using var doc = JsonDocument.Parse(m.Data!);
        if (doc.RootElement.GetProperty("kind").GetString() == "modified")
        {
            stored.TryAdd(doc.RootElement.GetProperty("path").GetString()!, now);
        }
    }
});
await nats.PingAsync();

var closed = new long[files];
for (var i = 0; i < files; i++)
{
    File.WriteAllText(paths[i], $"changed {i}");
    closed[i] = Stopwatch.GetTimestamp();
    await Task.Delay(intervalMs);
}
var deadline = Stopwatch.StartNew();
while (stored.Count < files && deadline.Elapsed < TimeSpan.FromSeconds(60))
{
    await Task.Delay(20);
}
cts.Cancel();
var ms = Enumerable.Range(0, files).Where(i => stored.ContainsKey(paths[i]))
    .Select(i => Stopwatch.GetElapsedTime(closed[i], stored[paths[i]]).TotalMilliseconds).Order().ToArray();
double P(double q) => ms[Math.Min(ms.Length - 1, (int)Math.Ceiling(q * ms.Length) - 1)];
Console.WriteLine($"{files} writes {intervalMs} ms apart, {managers} manager(s); alerts stored: {ms.Length}");
if (ms.Length > 0)
{
    Console.WriteLine($"write -> alert stored: p50 {P(0.5):F1} ms, p95 {P(0.95):F1} ms, p99 {P(0.99):F1} ms, max {ms[^1]:F1} ms (target p99 <= 100 ms)");
}
return ms.Length == files ? 0 : 1;

int IntArg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}

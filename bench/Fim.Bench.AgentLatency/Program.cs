// End-to-end realtime latency of the real agent: runs `fim-agent watch --json` on a tree of N files, then
// rewrites each file (open, write, close) and measures from just after close() to the moment the agent's
// alert line for that file is read from its stdout. That covers inotify, the settle logic, re-stat and
// re-hash, the baseline journal fsync, rule evaluation and JSON output.
// Before that, start-up to first watch: the agent is started twice on the tree (the first run records the baseline,
// the second starts from it, as after a reboot) and the time from process start to "realtime detection on" is printed.
// Usage: dotnet run -c Release --project bench/Fim.Bench.AgentLatency -- <fim-agent.dll or native fim-agent> [--files 1000] [--interval-ms 2]
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Fim.Testing;

if (args.Length < 1 || !File.Exists(args[0]))
{
    Console.Error.WriteLine("usage: Fim.Bench.AgentLatency <path to fim-agent.dll or the native fim-agent> [--files N] [--interval-ms M]");
    return 2;
}
var agentDll = args[0];
var files = IntArg("--files", 1000);
var intervalMs = IntArg("--interval-ms", 2);

var work = Path.Combine(Path.GetTempPath(), "fim-bench-e2e-" + Guid.NewGuid().ToString("N")[..8]);
var tree = Path.Combine(work, "tree");
Directory.CreateDirectory(tree);
for (var i = 0; i < files; i++)
{
    File.WriteAllText(Path.Combine(tree, $"f{i:D5}"), "initial");
}

string[] watchArgs = ["watch", tree, "--json", "--state", Path.Combine(work, "state"), "--key-file", Path.Combine(work, "key", "k")];
ChildProcess StartAgent() => agentDll.EndsWith(".dll", StringComparison.Ordinal)
    ? ChildProcess.Dotnet(agentDll, watchArgs)
    : new ChildProcess(agentDll, watchArgs, name: "fim-agent");
foreach (var label in new[] { "first start (records the baseline)", "restart (baseline on disk)" })
{
    var started = Stopwatch.StartNew();
    using var first = StartAgent();
    await first.AwaitLogAsync("realtime detection on");
    Console.WriteLine($"start-up to first watch, {files} files, {label}: {started.Elapsed.TotalSeconds:F3} s");
    first.Kill();
}

using var agent = StartAgent();
var arrivals = new ConcurrentDictionary<string, long>();
agent.StdoutLine += line =>
{
    // Stamped as the line is read from the agent's stdout: that moment ends the measured latency.
    var now = Stopwatch.GetTimestamp();
    using var doc = JsonDocument.Parse(line);
    var path = doc.RootElement.GetProperty("path").GetString()!;
    if (doc.RootElement.GetProperty("kind").GetString() == "modified")
    {
        arrivals.TryAdd(path, now);
    }
};
try
{
    await agent.AwaitLogAsync("realtime detection on");
    // The package index is built in the background after the first watch ("package databases indexed", or "indexing the
    // package databases failed"), then its garbage is collected: writes start once the agent is in its steady state.
    await agent.AwaitLogAsync("package databases");
    var closed = new long[files];
    var content = new byte[256];
    for (var i = 0; i < files; i++)
    {
        Random.Shared.NextBytes(content);
        using (var f = new FileStream(Path.Combine(tree, $"f{i:D5}"), FileMode.Create, FileAccess.Write))
        {
            f.Write(content);
        }
        closed[i] = Stopwatch.GetTimestamp();
        if (intervalMs > 0)
        {
            Thread.Sleep(intervalMs);
        }
    }
    var deadline = Stopwatch.StartNew();
    while (arrivals.Count < files && deadline.Elapsed < TimeSpan.FromSeconds(30))
    {
        await Task.Delay(10);
    }
    var latencies = Enumerable.Range(0, files)
        .Where(i => arrivals.ContainsKey(Path.Combine(tree, $"f{i:D5}")))
        .Select(i => Stopwatch.GetElapsedTime(closed[i], arrivals[Path.Combine(tree, $"f{i:D5}")]).TotalMilliseconds)
        .Order().ToArray();
    Console.WriteLine($"{files} writes, {intervalMs} ms apart; alerts received: {latencies.Length}");
    if (latencies.Length > 0)
    {
        Console.WriteLine($"close() -> alert line: p50 {P(0.50):F2} ms, p95 {P(0.95):F2} ms, p99 {P(0.99):F2} ms, max {latencies[^1]:F2} ms (target p99 <= 5 ms)");
    }
    return latencies.Length == files ? 0 : 1;

    double P(double q) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(q * latencies.Length) - 1)];
}
finally
{
    agent.Kill();
    Directory.Delete(work, recursive: true);
}

int IntArg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}

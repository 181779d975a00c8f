// JSON lines from one agent's tailed file to alerts in the store, against file events through the same pipeline in
// the same run: real nats-server, one manager (SQLite store), one agent whose policy watches a directory (realtime) and
// tails a Falco JSON-lines file. Phase 1 creates --files files at once; phase 2 appends --lines Falco events at once.
// Each rate is items / seconds from the first write to the last alert counted in the store (REST counts by source).
// Usage: dotnet run -c Release --project bench/Fim.Bench.Sources -- [--files 5000] [--lines 20000]
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fim.EndToEnd.Tests;
using Fim.Testing;

var files = IntArg("--files", 5000);
var lines = IntArg("--lines", 20000);

await using var p = await Pipeline.StartAsync(managers: 1);
var sources = Path.Combine(p.Root, "falco");
Directory.CreateDirectory(sources);
var eventsFile = Path.Combine(sources, "events.json");
await p.StartAgentAsync(policyText: $"""
    name: bench-sources
    paths:
      - path: {p.Tree}
    sources:
      - path: {sources}/*.json
        format: falco
    """);
using var http = p.AdminHttp();
var since = DateTimeOffset.UtcNow.AddMinutes(-1);

async Task<long> StoredAsync(string source)
{
    var url = $"{p.Managers[0].RestUrl}/api/v1/alerts/counts?filter.source={source}&filter.since={Uri.EscapeDataString(since.ToString("O"))}" +
        $"&filter.until={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"))}&groupBy=level&bucketSeconds=86400";
    var reply = await http.GetFromJsonAsync<JsonElement>(url);
    return reply.TryGetProperty("buckets", out var buckets) ? buckets.EnumerateArray().Sum(b => long.Parse(b.GetProperty("count").ToString().Trim('"'))) : 0;
}

async Task<double> AwaitStoredAsync(string source, long count, Stopwatch clock)
{
    var deadline = Stopwatch.StartNew();
    long stored;
    while ((stored = await StoredAsync(source)) < count)
    {
        if (deadline.Elapsed > TimeSpan.FromMinutes(10))
        {
            throw new TimeoutException($"{stored} of {count} {source} alerts stored after 10 minutes\n{p.Logs()}");
        }
        await Task.Delay(100);
    }
    return clock.Elapsed.TotalSeconds;
}

// Phase 1: file events.
var clock = Stopwatch.StartNew();
for (var i = 0; i < files; i++)
{
    File.WriteAllText(Path.Combine(p.Tree, $"f{i:D6}"), $"content {i}");
}
var written = clock.Elapsed.TotalSeconds;
var fileSeconds = await AwaitStoredAsync("realtime", files, clock);

// Phase 2: JSON lines, one Falco event each (distinct times, so each is its own record).
var now = DateTimeOffset.UtcNow;
var text = new StringBuilder();
for (var i = 0; i < lines; i++)
{
    text.Append(SecuritySamples.At(SecuritySamples.FalcoShadow, now.AddMilliseconds(i))).Append('\n');
}
var bytes = Encoding.UTF8.GetBytes(text.ToString());
clock.Restart();
await File.WriteAllBytesAsync(eventsFile, bytes);
var lineSeconds = await AwaitStoredAsync("falco", lines, clock);

Console.WriteLine($"file events: {files} files created in {written:F2} s; all {files} alerts stored after {fileSeconds:F2} s: {files / fileSeconds:F0} events/s");
Console.WriteLine($"JSON lines:  {lines} Falco lines ({bytes.Length / 1024.0 / 1024.0:F1} MiB) written at once; all {lines} alerts stored after {lineSeconds:F2} s: {lines / lineSeconds:F0} lines/s");
Console.WriteLine($"ratio: JSON lines / file events = {lines / lineSeconds / (files / fileSeconds):F2}");
return 0;

int IntArg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}

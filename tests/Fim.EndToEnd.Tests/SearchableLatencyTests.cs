using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Fim.Api.V1;
using Fim.Testing;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Fim.EndToEnd.Tests;

/// <summary>
/// Issue 16, acceptance 3: a real agent, nats-server and manager (SQLite store); 300 file changes, each found through
/// REST, gRPC and fimctl, with the delay from the write to the end of the first query that found it. The figures are
/// printed; the bound asserted is <see cref="BoundVariable"/> (default generous, so the test holds on a saturated
/// machine); bench/searchable.sh runs this test with the issue's 1 s on a quiet one.
/// </summary>
public sealed class SearchableLatencyTests(ITestOutputHelper output)
{
    public const string BoundVariable = "FIM_SEARCHABLE_P99_MS";
    private const int Changes = 300;

    private static TimeSpan Bound => TimeSpan.FromMilliseconds(
        int.TryParse(Environment.GetEnvironmentVariable(BoundVariable), CultureInfo.InvariantCulture, out var ms) ? ms : 30_000);

    [Fact]
    public async Task Each_of_300_changes_is_searchable_through_REST_gRPC_and_fimctl_and_the_p99_delay_is_within_the_bound()
    {
        await using var p = await Pipeline.StartAsync(managers: 1);
        await p.StartAgentAsync();
        var manager = p.Managers[0];
        var prefix = Path.Combine(p.Tree, "change-");
        var paths = Enumerable.Range(0, Changes).Select(i => $"{prefix}{i:D3}").ToList();
        var written = new ConcurrentDictionary<string, (long Ticks, DateTimeOffset At)>();
        var token = await p.Oidc.TokenAsync(OidcProvider.Admin);
        var ctlEnv = await p.CtlEnvironmentAsync();

        // The oldest change not yet found through this interface, less a margin: each query reads only the recent window.
        DateTimeOffset Since(ConcurrentDictionary<string, long> seen) =>
            (written.Where(w => !seen.ContainsKey(w.Key)).Select(w => w.Value.At).DefaultIfEmpty(DateTimeOffset.UtcNow).Min()).AddSeconds(-5);

        void Found(ConcurrentDictionary<string, long> seen, IEnumerable<string> found)
        {
            var now = Stopwatch.GetTimestamp();
            foreach (var path in found)
            {
                if (written.ContainsKey(path))
                {
                    seen.TryAdd(path, now);
                }
            }
        }

        var rest = new ConcurrentDictionary<string, long>();
        var grpc = new ConcurrentDictionary<string, long>();
        var ctl = new ConcurrentDictionary<string, long>();
        // A fimctl run is a process start plus the call: its delay is bounded by the end of the run that found the change.
        var ctlRuns = new ConcurrentBag<double>();
        using var stop = new CancellationTokenSource();
        using var http = p.AdminHttp(TimeSpan.FromSeconds(30));
        using var channel = GrpcChannel.ForAddress(manager.GrpcUrl);
        var client = new FimManager.FimManagerClient(channel);
        var auth = new Metadata { { "Authorization", $"Bearer {token}" } };

        async Task PollAsync(ConcurrentDictionary<string, long> seen, Func<DateTimeOffset, Task<IEnumerable<string>>> query)
        {
            while (!stop.IsCancellationRequested && seen.Count < Changes)
            {
                if (!written.IsEmpty)
                {
                    Found(seen, await query(Since(seen)));
                }
                await Task.Delay(20);
            }
        }

        var pollers = new[]
        {
            PollAsync(rest, async since =>
            {
                var body = await http.GetStringAsync($"{manager.RestUrl}/api/v1/alerts?agentId={Pipeline.AgentId}&limit=1000"
                    + $"&pathPrefix={Uri.EscapeDataString(prefix)}&since={Uri.EscapeDataString(since.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))}");
                return JsonDocument.Parse(body).RootElement.TryGetProperty("alerts", out var alerts)
                    ? alerts.EnumerateArray().Select(a => a.GetProperty("path").GetString()!).ToList()
                    : [];
            }),
            PollAsync(grpc, async since =>
            {
                var reply = await client.ListAlertsAsync(new ListAlertsRequest
                {
                    AgentId = Pipeline.AgentId,
                    PathPrefix = prefix,
                    Since = Timestamp.FromDateTimeOffset(since),
                    Limit = 1000,
                }, auth);
                return reply.Alerts.Select(a => a.Path);
            }),
            PollAsync(ctl, async since =>
            {
                var started = Stopwatch.GetTimestamp();
                var result = await ChildProcess.RunCtlAsync(["alerts", "--agent", Pipeline.AgentId, "--path-prefix", prefix,
                    "--since", since.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), "--limit", "1000", "--json", "--server", manager.GrpcUrl], ctlEnv);
                Assert.True(result.ExitCode == 0, result.ToString());
                ctlRuns.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Where(line => line.StartsWith('{'))
                    .Select(line => JsonDocument.Parse(line).RootElement.TryGetProperty("path", out var path) ? path.GetString()! : "");
            }),
        };

        // A steady trickle, as changes arrive in production: one every 30 ms.
        foreach (var path in paths)
        {
            File.WriteAllText(path, path);
            written[path] = (Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow);
            await Task.Delay(30);
        }
        try
        {
            // A poller that failed finds nothing more: stop waiting, and awaiting it below reports its error.
            await Eventually.TrueAsync(() => Task.FromResult(pollers.Any(poller => poller.IsFaulted)
                    || (rest.Count == Changes && grpc.Count == Changes && ctl.Count == Changes)),
                () => $"every change through each interface: REST {rest.Count}, gRPC {grpc.Count}, fimctl {ctl.Count} of {Changes}\n{p.Logs()}",
                TimeSpan.FromMinutes(3));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(pollers).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        foreach (var poller in pollers)
        {
            await poller;
        }

        var report = new List<string>();
        foreach (var (name, seen) in new[] { ("REST", rest), ("gRPC", grpc), ("fimctl", ctl) })
        {
            var delays = paths.Select(path => Stopwatch.GetElapsedTime(written[path].Ticks, seen[path]).TotalMilliseconds).Order().ToList();
            var p99 = delays[(int)Math.Ceiling(delays.Count * 0.99) - 1];
            report.Add($"{name}: p50 {delays[delays.Count / 2]:0} ms, p95 {delays[(int)Math.Ceiling(delays.Count * 0.95) - 1]:0} ms, p99 {p99:0} ms, max {delays[^1]:0} ms");
            Assert.True(p99 <= Bound.TotalMilliseconds, $"{name} p99 {p99:0} ms over {Bound.TotalMilliseconds:0} ms ({BoundVariable})\n{string.Join('\n', report)}");
        }
        var runs = ctlRuns.Order().ToList();
        report.Add($"one fimctl run ({(Programs.NativeCtl is null ? "JIT fimctl.dll" : "native fimctl")}, process start and query): p50 {runs[runs.Count / 2]:0} ms, max {runs[^1]:0} ms, {runs.Count} runs");
        output.WriteLine($"write -> searchable, {Changes} changes 30 ms apart, load average {File.ReadAllText("/proc/loadavg").Trim()}:\n{string.Join('\n', report)}");
    }
}

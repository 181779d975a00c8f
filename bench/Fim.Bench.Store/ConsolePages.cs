using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fim.Contracts;
using Fim.Nats;
using Fim.Testing;
using Microsoft.Playwright;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

/// <summary>
/// The web console's server time on the generated alerts: a real manager process on the benchmark's PostgreSQL database,
/// nats-server with a heartbeat for each of the 1,000 generated agents, the test OIDC provider, and Debian's chromium
/// signed in as an admin (every query unscoped: the most rows). Each page is opened <c>visits</c> times by a full page
/// load, with its filters varied; the figure is the manager's own fim_console_page_seconds (ConsolePage: parameters set
/// to the render that shows the result), read from /metrics after a warm-up round, so neither the network nor the
/// browser counts. p95 is interpolated within the histogram's buckets as Prometheus' histogram_quantile does.
/// </summary>
internal sealed partial class ConsolePages(string connectionString, DateTimeOffset generatedAt, int visits)
{
    public const double TargetP95Seconds = 0.2;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    public async Task<bool> RunAsync()
    {
        var root = Directory.CreateTempSubdirectory("fim-bench-console-").FullName;
        await using var nats = await NatsServer.StartAsync(workDir: Path.Combine(root, "nats"));
        await using var oidc = await OidcProvider.StartAsync();
        var httpPort = NatsServer.FreePort();
        var baseUrl = $"http://127.0.0.1:{httpPort}";
        var env = oidc.ManagerSettings(browserLogin: true).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value ?? "");
        env["Fim__Nats__Url"] = nats.Url;
        env["Fim__Api__Address"] = "127.0.0.1";
        env["Fim__Api__HttpPort"] = httpPort.ToString(CultureInfo.InvariantCulture);
        env["Fim__Api__GrpcPort"] = NatsServer.FreePort().ToString(CultureInfo.InvariantCulture);
        env["Fim__Api__RequestsPerCallerPerMinute"] = "1000000";
        env["Fim__Store__Backend"] = "postgres";
        env["Fim__Store__ConnectionString"] = connectionString;
        // Nothing arrives on FIM_ALERTS here; the database is the benchmark's, read as it is.
        env["Fim__Store__Indexer"] = "false";
        using var manager = ChildProcess.Dotnet(Programs.Manager, [], env);
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(10) };
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return (await http.GetAsync("/readyz")).IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, () => "manager ready\n" + manager.Output, Deadline);
        await SeedFleetAsync(nats.Url);

        var alertIds = await AlertIdsAsync(oidc, baseUrl);
        var pages = Pages(alertIds);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl });
        context.SetDefaultTimeout((float)Deadline.TotalMilliseconds);
        var page = await context.NewPageAsync();
        await SignInAsync(page, oidc, baseUrl);

        // Warm-up: JIT, the connection pool and PostgreSQL's caches for each page's queries; not counted.
        foreach (var (name, urls) in pages)
        {
            for (var i = 0; i < 3; i++)
            {
                await OpenAsync(page, http, name, urls(i), manager);
            }
        }
        var before = await HistogramAsync(http);
        foreach (var (name, urls) in pages)
        {
            for (var i = 0; i < visits; i++)
            {
                await OpenAsync(page, http, name, urls(i + 3), manager);
            }
        }
        var after = await HistogramAsync(http);

        Console.WriteLine($"console pages: {visits} full loads each, server time from fim_console_page_seconds (load average {File.ReadAllText("/proc/loadavg")[..14]})");
        Console.WriteLine($"{"page",-20} {"count",6} {"p50 ms",8} {"p95 ms",8} {"<=200 ms",9}");
        var met = true;
        foreach (var (name, _) in pages)
        {
            var buckets = after[name].Select(b => (b.Le, Count: b.Count - before[name].First(o => o.Le == b.Le).Count)).ToList();
            var count = buckets[^1].Count;
            var within = buckets.First(b => b.Le >= TargetP95Seconds).Count / (double)count;
            var p95 = Quantile(buckets, 0.95);
            met &= p95 <= TargetP95Seconds;
            Console.WriteLine($"{name,-20} {count,6} {Quantile(buckets, 0.5) * 1000,8:0} {p95 * 1000,8:0} {within,9:P1}");
        }
        Console.WriteLine(met ? "console: every page's p95 <= 200 ms" : "console: some page's p95 is over 200 ms");
        try
        {
            Directory.Delete(root, true);
        }
        catch (IOException)
        {
        }
        return met;
    }

    /// <summary>The pages and, for visit i, the URL opened: filters rotate so the store is asked different questions.</summary>
    private List<(string Name, Func<int, string> Url)> Pages(IReadOnlyList<string> alertIds)
    {
        string Agent(int i) => $"agent-{i * 37 % BenchAlerts.Agents:D4}";
        string[] namespaces = ["payments", "web", "batch", "kube-system"];
        string[] searches =
        [
            "", "?minLevel=10&since=24h", "?pathPrefix=%2Fetc%2Fssh%2F&since=7d", "?kind=modified&since=1h",
            "?reviewState=new&minLevel=7", "?ruleId=553",
        ];
        var from = generatedAt.AddDays(-30).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return
        [
            ("Overview", _ => "/console/overview"),
            ("AlertList", i => (i % 3) switch
            {
                0 => "/console/alerts" + searches[i / 3 % searches.Length],
                1 => $"/console/alerts?agentId={Agent(i)}",
                _ => $"/console/alerts?namespace={namespaces[i % namespaces.Length]}&since=7d",
            }),
            ("AlertDetail", i => "/console/alert?id=" + Uri.EscapeDataString(alertIds[i % alertIds.Count])),
            ("Agents", i => i % 2 == 0 ? "/console/agents" : "/console/agents?status=active"),
            ("Policies", _ => "/console/policies"),
            ("MaintenanceWindows", _ => "/console/maintenance"),
            ("Compliance", i => i % 2 == 0 ? "/console/compliance" : $"/console/compliance?from={from}&minLevel=10"),
            ("AuditLog", _ => "/console/audit"),
        ];
    }

    /// <summary>Opens <paramref name="url"/> and waits until the manager has counted one more render of the page.</summary>
    private static async Task OpenAsync(IPage page, HttpClient http, string name, string url, ChildProcess manager)
    {
        var before = await PageCountAsync(http, name);
        await page.GotoAsync(url);
        await Eventually.TrueAsync(async () => await PageCountAsync(http, name) > before, () => $"{name} rendered after {url}\n{manager.Output}", Deadline);
    }

    private static async Task<double> PageCountAsync(HttpClient http, string name) =>
        (await HistogramAsync(http)).TryGetValue(name, out var buckets) ? buckets[^1].Count : 0;

    /// <summary>fim_console_page_seconds from /metrics: page -> cumulative buckets (le, count), +Inf last.</summary>
    private static async Task<Dictionary<string, List<(double Le, double Count)>>> HistogramAsync(HttpClient http)
    {
        var text = await http.GetStringAsync("/metrics");
        var result = new Dictionary<string, List<(double Le, double Count)>>(StringComparer.Ordinal);
        foreach (Match m in BucketLine().Matches(text))
        {
            var le = m.Groups["le"].Value == "+Inf" ? double.PositiveInfinity : double.Parse(m.Groups["le"].Value, CultureInfo.InvariantCulture);
            var list = result.TryGetValue(m.Groups["page"].Value, out var l) ? l : result[m.Groups["page"].Value] = [];
            list.Add((le, double.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture)));
        }
        foreach (var list in result.Values)
        {
            list.Sort((a, b) => a.Le.CompareTo(b.Le));
        }
        return result;
    }

    /// <summary>As histogram_quantile: linear within the bucket the rank falls in (the highest finite bound if in +Inf).</summary>
    private static double Quantile(List<(double Le, double Count)> buckets, double q)
    {
        var rank = q * buckets[^1].Count;
        var (lowerLe, lowerCount) = (0.0, 0.0);
        foreach (var (le, count) in buckets)
        {
            if (count >= rank)
            {
                return double.IsPositiveInfinity(le) ? lowerLe : lowerLe + (le - lowerLe) * (rank - lowerCount) / Math.Max(count - lowerCount, 1e-9);
            }
            (lowerLe, lowerCount) = (le, count);
        }
        return lowerLe;
    }

    [GeneratedRegex("""^fim_console_page_seconds_bucket\{page="(?<page>[^"]+)",le="(?<le>[^"]+)"\} (?<count>\S+)$""", RegexOptions.Multiline)]
    private static partial Regex BucketLine();

    /// <summary>A heartbeat for each generated agent, so the fleet pages and the compliance report have the whole fleet.</summary>
    private async Task SeedFleetAsync(string natsUrl)
    {
        await using var connection = new NatsConnection(NatsOpts.Default with { Url = natsUrl });
        var bucket = await FimBuckets.OpenOrCreateAsync(new NatsKVContext(new NatsJSContext(connection)), Subjects.AgentsBucket, replicas: 1, CancellationToken.None);
        for (var i = 0; i < BenchAlerts.Agents; i++)
        {
            var id = $"agent-{i:D4}";
            var heartbeat = new Heartbeat
            {
                AgentId = id,
                Hostname = id + ".nodes.example",
                Version = "bench",
                BootId = "boot-" + id,
                Labels = new Dictionary<string, string> { ["role"] = i % 3 == 0 ? "node" : "host" },
                AppliedPolicies = new Dictionary<string, long> { ["prod/baseline"] = 1 },
                PolicyErrors = new Dictionary<string, string>(),
                Policies = [new HeartbeatPolicy("prod.baseline", "prod/baseline", 1, "running", null, null, null)],
                LastScan = new HeartbeatScan("prod/baseline", "schedule", DateTimeOffset.UtcNow.AddMinutes(-i % 60), 25_000, i % 5, 1200),
                BaselineDigest = "bench",
                Outbox = new HeartbeatOutbox(0, 0, 100_000, false, 0),
                Time = DateTimeOffset.UtcNow,
            };
            await bucket.PutAsync(id, ContractJson.ToUtf8(heartbeat));
        }
    }

    /// <summary>Alert ids spread over agents, for the alert page, read through the REST API as the admin client.</summary>
    private static async Task<IReadOnlyList<string>> AlertIdsAsync(OidcProvider oidc, string baseUrl)
    {
        using var http = new HttpClient(oidc.BearerHandler(OidcProvider.Admin)) { BaseAddress = new Uri(baseUrl) };
        List<string> ids = [];
        for (var agent = 0; agent < BenchAlerts.Agents && ids.Count < 50; agent += 97)
        {
            var reply = await http.GetFromJsonAsync<JsonElement>($"/api/v1/alerts?agentId=agent-{agent:D4}");
            ids.AddRange(reply.GetProperty("alerts").EnumerateArray().Take(5).Select(a => a.GetProperty("alertId").GetString()!));
        }
        return ids.Count > 0 ? ids : throw new InvalidOperationException("the store returned no alerts: is the benchmark database loaded?");
    }

    private static async Task SignInAsync(IPage page, OidcProvider oidc, string baseUrl)
    {
        await page.GotoAsync("/console/overview");
        await page.WaitForURLAsync(url => url.StartsWith(oidc.Issuer + "/interaction/", StringComparison.Ordinal));
        await page.FillAsync("input[name=login]", OidcProvider.AccountLogin);
        await page.FillAsync("input[name=password]", oidc.AccountPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => url.StartsWith(baseUrl + "/console/", StringComparison.Ordinal));
    }
}

using System.Net.Http.Json;
using System.Text.Json;
using Fim.Testing;
using Microsoft.Playwright;

namespace Fim.Console.Tests;

/// <summary>
/// What the console runs against, all real: nats-server, the test OIDC provider (tests/oidc/provider.mjs), a manager
/// process with the browser login and its SQLite store, and a connected agent watching a temp tree (diffs on). Plus
/// Playwright driving Debian's chromium.
/// </summary>
public sealed class ConsoleStack : IAsyncLifetime
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    public const string AgentId = "console-agent";
    public const string WatchedFile = "app.conf";

    private ChildProcess? _manager;
    private ChildProcess? _agent;
    private IPlaywright? _playwright;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "fim-console-" + Guid.NewGuid().ToString("N")[..10]);
    public string Tree => Path.Combine(Root, "tree");
    public NatsServer Nats { get; private set; } = null!;
    public OidcProvider Oidc { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public int HttpPort { get; } = NatsServer.FreePort();
    public string BaseUrl => $"http://127.0.0.1:{HttpPort}";
    /// <summary>Where each test saves its screenshots: the run's test results (scripts/test.sh: TestResults/).</summary>
    public static string Screenshots { get; } = Repository.File("TestResults/console-screenshots");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Tree);
        await File.WriteAllTextAsync(Path.Combine(Tree, WatchedFile), "listen 80\nworkers 2\n");
        Nats = await NatsServer.StartAsync(workDir: Path.Combine(Root, "nats"));
        // A provider of its own: its accounts include the analyst and the viewer these tests sign in as.
        Oidc = await OidcProvider.StartAsync();
        var env = Oidc.ManagerSettings(browserLogin: true).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value ?? "");
        env["Fim__Nats__Url"] = Nats.Url;
        env["Fim__Api__Address"] = "127.0.0.1";
        env["Fim__Api__HttpPort"] = HttpPort.ToString();
        env["Fim__Api__GrpcPort"] = NatsServer.FreePort().ToString();
        env["Fim__Store__DataDirectory"] = Path.Combine(Root, "store");
        env["Fim__Store__BatchDelay"] = "00:00:00.005";
        // The tests' waits poll the API every 20 ms: not the 600 a minute per caller.
        env["Fim__Api__RequestsPerCallerPerMinute"] = "1000000";
        // An agent silent this long is disconnected (the default is minutes); the console agent beats every 2 s.
        env["Fim__Fleet__DisconnectedAfter"] = "00:00:20";
        _manager = ChildProcess.Dotnet(Programs.Manager, [], env);
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) })
        {
            await Eventually.TrueAsync(async () =>
            {
                try
                {
                    return (await http.GetAsync(BaseUrl + "/readyz")).IsSuccessStatusCode;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            }, () => "manager ready\n" + _manager.Output, Deadline);
        }

        var policy = Path.Combine(Root, "policy.yaml");
        await File.WriteAllTextAsync(policy, $"name: console\npaths:\n  - path: {Tree}\n    reportDiffs: true\n");
        var config = Path.Combine(Root, "agent.yaml");
        await File.WriteAllTextAsync(config, $"""
            agentId: {AgentId}
            labels: {"{"} role: web {"}"}
            nats:
              url: {Nats.Url}
            stateDir: {Path.Combine(Root, "state")}
            keyFile: {Path.Combine(Root, "keys", "baseline.key")}
            policyFile: {policy}
            heartbeatInterval: 2s
            """);
        _agent = ChildProcess.Agent(["run", "--config", config]);
        await _agent.AwaitLogAsync("revision 0 applied", Deadline);

        // Expect() waits 5 s by default, whatever the context's timeout: too short for a saturated machine.
        Assertions.SetDefaultExpectTimeout((float)Deadline.TotalMilliseconds);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Directory.CreateDirectory(Screenshots);
    }

    /// <summary>A fresh browser (no cookies) whose waits allow for a busy machine.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl });
        context.SetDefaultTimeout((float)Deadline.TotalMilliseconds);
        return await context.NewPageAsync();
    }

    /// <summary>Opens <paramref name="path"/>, is sent to the provider's login form, signs in as <paramref name="login"/> and lands back there.</summary>
    public async Task<IPage> SignedInAsync(string login, string path = "/console/alerts")
    {
        var page = await NewPageAsync();
        await page.GotoAsync(path);
        await page.WaitForURLAsync(url => url.StartsWith(Oidc.Issuer + "/interaction/", StringComparison.Ordinal));
        await page.FillAsync("input[name=login]", login);
        await page.FillAsync("input[name=password]", Oidc.AccountPassword);
        await page.ClickAsync("button[type=submit]");
        try
        {
            await page.WaitForURLAsync(url => url.StartsWith(BaseUrl + path, StringComparison.Ordinal));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"signed in as {login} but not back on {path}: at {page.Url}\n{await page.ContentAsync()}\n{Logs}");
        }
        return page;
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    /// <summary>The stored alerts of a path (newest first), read through the REST API as the admin client.</summary>
    public async Task<List<JsonElement>> StoredAlertsAsync(string path)
    {
        using var http = new HttpClient(Oidc.BearerHandler(OidcProvider.Admin)) { BaseAddress = new Uri(BaseUrl) };
        var reply = await http.GetFromJsonAsync<JsonElement>($"/api/v1/alerts?agentId={AgentId}&path={Uri.EscapeDataString(path)}");
        return reply.TryGetProperty("alerts", out var alerts) ? [.. alerts.EnumerateArray()] : [];
    }

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> and waits for its alert in the store; returns the newest alert's id.</summary>
    public async Task<string> WriteAndAwaitAlertAsync(string path, string content)
    {
        await File.WriteAllTextAsync(path, content);
        var alerts = await Eventually.CountAsync(async () => (IReadOnlyList<JsonElement>)await StoredAlertsAsync(path), 1,
            $"an alert of {Path.GetFileName(path)} stored\n{Logs}", Deadline);
        return alerts[0].GetProperty("alertId").GetString()!;
    }

    public string Logs => $"manager:\n{_manager?.Output}\nagent:\n{_agent?.Output}";

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
        _agent?.Dispose();
        _manager?.Dispose();
        if (Oidc is not null)
        {
            await Oidc.DisposeAsync();
        }
        if (Nats is not null)
        {
            await Nats.DisposeAsync();
        }
        try
        {
            Directory.Delete(Root, true);
        }
        catch (IOException)
        {
        }
    }
}

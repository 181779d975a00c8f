using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fim.Testing;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Fim.Console.Tests;

/// <summary>
/// README command one, as a newcomer runs it (issue 17, acceptance 3): scripts/demo.sh itself, in a state directory of
/// the test's own, with the programs this test run built (FIM_DEMO_AGENT, FIM_DEMO_MANAGER; building them again would
/// take minutes). Waits have generous deadlines for a saturated machine; how fast a change reaches the open console is
/// measured and reported apart (test output and TestResults/console-screenshots/demo-latency.txt), not asserted.
/// </summary>
[Collection(Name)]
public sealed class DemoScriptTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Run alone, not beside the console stack's own processes and browser: the machine has two cores.</summary>
    public const string Name = "demo script";

    private static readonly TimeSpan StartDeadline = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan StopDeadline = TimeSpan.FromMinutes(1);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "fim-demo-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly int _httpPort = NatsServer.FreePort();
    private readonly int _natsPort = NatsServer.FreePort();
    private readonly int _oidcPort = NatsServer.FreePort();
    private readonly List<ChildProcess> _runs = [];
    private IReadOnlyList<ProcessInfo> _started = [];
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    private string DemoFolder => Path.Combine(_root, "demo");
    private string SystemFolder => Path.Combine(_root, "demo-system");

    [Fact]
    public async Task The_demo_script_shows_a_change_live_in_the_console_stops_everything_on_sigint_and_runs_again()
    {
        var demo = Start(["--keep-running"]);
        await demo.AwaitLogAsync("  password ", StartDeadline);
        var (console, login, password) = Printed(demo.Stdout);
        Assert.Equal($"http://127.0.0.1:{_httpPort}/console/alerts", console);
        _started = ProcessTree.Descendants(demo.Id);
        foreach (var part in new[] { "nats-server", "tests/oidc/provider.mjs", "fim-manager", "fim-agent" })
        {
            Assert.True(_started.Any(p => p.CommandLine.Contains(part, StringComparison.Ordinal)), $"no {part} under the script: {Describe(_started)}\n{demo.Output}");
        }

        var page = await SignInAsync(console, login, password);
        await Assertions.Expect(page.GetByTestId("who")).ToContainTextAsync($"{login} (admin)");
        // The login is one-time: another browser with the same password is refused, the first stays signed in.
        var other = await (await _browser!.NewContextAsync()).NewPageAsync();
        other.SetDefaultTimeout((float)ConsoleStack.Deadline.TotalMilliseconds);
        await other.GotoAsync(console);
        await other.FillAsync("input[name=login]", login);
        await other.FillAsync("input[name=password]", password);
        await other.ClickAsync("button[type=submit]");
        await Assertions.Expect(other.Locator("body")).ToContainTextAsync("This one-time password has been used");
        await Assertions.Expect(page.GetByTestId("live-status")).ToContainTextAsync("Live");
        await page.EvaluateAsync("() => window.fimNoReload = 'still here'");

        // The change the script tells the user to make, then a few new files: each row is timed from the write to its
        // appearance in the page (the browser's clock and this process's are the same clock).
        var latencies = new List<long>
        {
            await TimedChangeAsync(page, "app.conf", "modified", () => File.AppendAllTextAsync(Path.Combine(DemoFolder, "etc/app/app.conf"), "log_level=debug\n")),
        };
        await ConsoleStack.ScreenshotAsync(page, "demo-alerts-live");
        for (var i = 1; i <= 4; i++)
        {
            var name = $"sample-{i}.conf";
            latencies.Add(await TimedChangeAsync(page, name, "added", () => File.WriteAllTextAsync(Path.Combine(DemoFolder, "etc/app", name), $"sample {i}\n")));
        }
        Assert.Equal("still here", await page.EvaluateAsync<string>("() => window.fimNoReload"));
        Report(latencies);

        var secrets = Secrets(password);
        foreach (var log in Directory.GetFiles(Path.Combine(SystemFolder, "logs")))
        {
            var text = await File.ReadAllTextAsync(log);
            Assert.False(secrets.Any(s => text.Contains(s, StringComparison.Ordinal)), $"a secret of this run is in {log}");
        }

        demo.Interrupt();
        Assert.Equal(0, await demo.WaitForExitAsync(StopDeadline));
        Assert.Contains("demo: stopped", demo.Stdout);
        AssertAllStopped();

        // A second run on the same state, without a terminal: it makes its own change, finds its alert through the API, exits 0.
        var second = Start([], ci: true);
        second.CloseInput();
        Assert.True(await second.WaitForExitAsync(StartDeadline) == 0, second.Output);
        Assert.Contains("demo: the alert, as the API returns it:", second.Stdout);
        Assert.Contains("demo: done", second.Stdout);
        AssertAllStopped();
    }

    private ChildProcess Start(IReadOnlyList<string> args, bool ci = false)
    {
        var env = new Dictionary<string, string>
        {
            ["FIM_DEMO_ROOT"] = _root,
            ["FIM_DEMO_HTTP_PORT"] = _httpPort.ToString(),
            ["FIM_DEMO_NATS_PORT"] = _natsPort.ToString(),
            ["FIM_DEMO_OIDC_PORT"] = _oidcPort.ToString(),
            ["FIM_DEMO_AGENT"] = Programs.NativeAgent ?? Programs.Agent,
            ["FIM_DEMO_MANAGER"] = Programs.Manager,
            ["CI"] = ci ? "true" : "",
        };
        var run = new ChildProcess("bash", [Repository.File("scripts/demo.sh"), .. args], env, name: "demo.sh");
        _runs.Add(run);
        return run;
    }

    private static (string Console, string Login, string Password) Printed(string stdout)
    {
        string Value(string label) => Regex.Match(stdout, $@"^  {label} +(\S+)", RegexOptions.Multiline) is { Success: true } m
            ? m.Groups[1].Value
            : throw new InvalidOperationException($"demo.sh printed no {label}:\n{stdout}");
        return (Value("console"), Value("login"), Value("password"));
    }

    private async Task<IPage> SignInAsync(string console, string login, string password)
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var context = await _browser.NewContextAsync();
        context.SetDefaultTimeout((float)ConsoleStack.Deadline.TotalMilliseconds);
        // Expect's own default is 5 s, which a saturated machine can exceed; the context's timeout does not cover it.
        Assertions.SetDefaultExpectTimeout((float)ConsoleStack.Deadline.TotalMilliseconds);
        var page = await context.NewPageAsync();
        await page.GotoAsync(console);
        await page.WaitForURLAsync(url => url.StartsWith($"http://127.0.0.1:{_oidcPort}/interaction/", StringComparison.Ordinal));
        await page.FillAsync("input[name=login]", login);
        await page.FillAsync("input[name=password]", password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => url.StartsWith(console, StringComparison.Ordinal));
        return page;
    }

    /// <summary>Makes a change and waits for its row on the open Alerts page; returns milliseconds from the write to the row.</summary>
    private static async Task<long> TimedChangeAsync(IPage page, string name, string kind, Func<Task> change)
    {
        await page.EvaluateAsync("""
            name => {
              window.fimSeen = null;
              const shown = () => [...document.querySelectorAll('tbody[data-testid=alert-rows] tr')].some(r => r.textContent.includes(name));
              const observer = new MutationObserver(() => {
                if (window.fimSeen === null && shown()) { window.fimSeen = Date.now(); observer.disconnect(); }
              });
              observer.observe(document.body, { childList: true, subtree: true, characterData: true });
            }
            """, name);
        var written = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await change();
        var row = page.Locator("tbody[data-testid=alert-rows] tr", new() { HasText = name }).Filter(new() { HasText = kind });
        await Assertions.Expect(row.First).ToBeVisibleAsync();
        return (long)await page.EvaluateAsync<double>("() => window.fimSeen") - written;
    }

    private void Report(List<long> latencies)
    {
        var sorted = latencies.Order().ToList();
        var line = $"demo.sh: change in the demo folder -> row on the open Alerts page: {string.Join(", ", latencies)} ms "
            + $"(median {sorted[sorted.Count / 2]} ms, max {sorted[^1]} ms; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}, {Environment.ProcessorCount} cores)";
        output.WriteLine(line);
        Directory.CreateDirectory(ConsoleStack.Screenshots);
        File.AppendAllText(Path.Combine(ConsoleStack.Screenshots, "demo-latency.txt"), $"{DateTimeOffset.UtcNow:u} {line}\n");
    }

    /// <summary>What this run made up and must keep out of every log: the login's password, the NATS token, the OIDC clients' secrets.</summary>
    private List<string> Secrets(string password)
    {
        var secrets = new List<string> { password, File.ReadAllText(Path.Combine(SystemFolder, "nats.token")) };
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(SystemFolder, "oidc", "config.json")));
        secrets.AddRange(config.RootElement.GetProperty("clients").EnumerateArray().Select(c => c.GetProperty("client_secret").GetString()!));
        Assert.All(secrets, s => Assert.True(s.Length >= 16, "a secret shorter than 16 characters"));
        return secrets;
    }

    private void AssertAllStopped()
    {
        var running = _started.Where(p => p.IsRunning).ToList();
        Assert.True(running.Count == 0, "still running after the script ended: " + Describe(running));
        foreach (var port in new[] { _httpPort, _natsPort, _oidcPort })
        {
            Assert.False(Listening(port), $"something still listens on 127.0.0.1:{port}");
        }
    }

    private static bool Listening(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string Describe(IEnumerable<ProcessInfo> processes) => string.Join("; ", processes.Select(p => $"{p.Id} {p.CommandLine}"));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }
        _playwright?.Dispose();
        foreach (var run in _runs)
        {
            if (!run.HasExited)
            {
                run.Interrupt();
                try
                {
                    await run.WaitForExitAsync(StopDeadline);
                }
                catch (TimeoutException)
                {
                }
            }
            run.Dispose();
        }
        // Whatever a failed run left behind, and only that.
        foreach (var left in _started.Where(p => p.IsRunning))
        {
            try
            {
                System.Diagnostics.Process.GetProcessById(left.Id).Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
            }
        }
        try
        {
            Directory.Delete(_root, true);
        }
        catch (IOException)
        {
        }
    }
}

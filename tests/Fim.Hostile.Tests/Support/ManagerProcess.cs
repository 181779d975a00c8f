using System.Diagnostics;
using System.Globalization;
using Fim.Testing;

namespace Fim.Hostile.Tests.Support;

/// <summary>A real fim-manager process on loopback ports, with its REST port, metrics and log lines.</summary>
public sealed class ManagerProcess : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private ManagerProcess(ChildProcess process, int httpPort, int grpcPort, OidcProvider oidc)
    {
        Process = process;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
        Oidc = oidc;
        // The API wants a caller; these tests call it as an admin, so what they see is the input handling, not a 401.
        Http = new HttpClient(oidc.BearerHandler(OidcProvider.Admin)) { BaseAddress = new Uri(RestUrl), Timeout = TimeSpan.FromSeconds(20) };
    }

    public OidcProvider Oidc { get; }

    /// <summary>fimctl's environment: an admin token in FIM_TOKEN.</summary>
    public async Task<Dictionary<string, string>> CtlEnvironmentAsync() =>
        new() { ["FIM_TOKEN"] = await Oidc.TokenAsync(OidcProvider.Admin) };

    public ChildProcess Process { get; }
    public int HttpPort { get; }
    public int GrpcPort { get; }
    public HttpClient Http { get; }
    public string RestUrl => $"http://127.0.0.1:{HttpPort}";
    public string GrpcUrl => $"http://127.0.0.1:{GrpcPort}";

    /// <summary>Starts a manager on <paramref name="natsUrl"/>; <paramref name="settings"/> are Fim__Section__Key environment settings.</summary>
    public static async Task<ManagerProcess> StartAsync(string natsUrl, IDictionary<string, string>? settings = null)
    {
        var oidc = await OidcProvider.SharedAsync();
        var (http, grpc) = (NatsServer.FreePort(), NatsServer.FreePort());
        var env = oidc.ManagerSettings(browserLogin: false).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value ?? "");
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["Fim__Nats__Url"] = natsUrl,
            ["Fim__Api__Address"] = "127.0.0.1",
            ["Fim__Api__HttpPort"] = http.ToString(CultureInfo.InvariantCulture),
            ["Fim__Api__GrpcPort"] = grpc.ToString(CultureInfo.InvariantCulture),
            ["Fim__Nats__ClientName"] = "hostile-manager",
            ["Fim__Pipeline__NakDelay"] = "00:00:00.100",
            ["Fim__Pipeline__MaxNakDelay"] = "00:00:00.200",
            // Only the stdout sink's alerts on stdout; they are not what these tests read.
            ["Fim__Sinks__Stdout__Enabled"] = "false",
            // Its own SQLite alert store.
            ["Fim__Store__DataDirectory"] = Path.Combine(Path.GetTempPath(), "fim-hostile-store-" + Guid.NewGuid().ToString("N")[..10]),
        })
        {
            env[key] = value;
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }
        return new ManagerProcess(ChildProcess.Dotnet(Programs.Manager, [], env), http, grpc, oidc);
    }

    public static async Task<ManagerProcess> StartReadyAsync(string natsUrl, IDictionary<string, string>? settings = null)
    {
        var m = await StartAsync(natsUrl, settings);
        await m.AwaitReadyAsync();
        return m;
    }

    public async Task AwaitReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await Http.GetAsync("/readyz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (Process.HasExited || deadline.Elapsed > Deadline)
            {
                throw new TimeoutException($"manager not ready on {RestUrl}\n{Process.Output}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>A counter or gauge from /metrics, e.g. Metric("fim_dead_letters_total", "reason=\"invalid-id\""); 0 when absent.</summary>
    public async Task<double> MetricAsync(string name, string? labels = null)
    {
        var text = await Http.GetStringAsync("/metrics");
        var prefix = labels is null ? name + " " : $"{name}{{{labels}}} ";
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[prefix.Length..], CultureInfo.InvariantCulture);
    }

    /// <summary>The manager's JSON log lines (stderr) that contain <paramref name="text"/>.</summary>
    public IReadOnlyList<string> LogLines(string text) => [.. Process.StderrLines.Where(l => l.Contains(text, StringComparison.Ordinal))];

    public async Task StopAsync()
    {
        if (!Process.HasExited)
        {
            Process.Terminate();
            await Process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Process.Dispose();
        Http.Dispose();
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Fim.Testing;

namespace Fim.Operator.Tests.Support;

/// <summary>Real fim-manager processes on one nats-server, each with its own health port, for tests that need managers beside the operator.</summary>
internal sealed class ManagerProcesses(string natsUrl, string workDir, IReadOnlyDictionary<string, string>? settings = null) : IDisposable
{
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);

    private readonly ConcurrentBag<ChildProcess> _all = [];
    private int _started;

    public sealed record Manager(ChildProcess Process, int HealthPort, string Name);

    public Manager Start()
    {
        var n = Interlocked.Increment(ref _started);
        var health = NatsServer.FreePort();
        var env = new Dictionary<string, string>
        {
            ["Fim__Nats__Url"] = natsUrl,
            ["Fim__Nats__ClientName"] = $"test-manager-{n}",
            ["Fim__Api__Address"] = "127.0.0.1",
            ["Fim__Api__HttpPort"] = NatsServer.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Fim__Api__GrpcPort"] = NatsServer.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Fim__Api__HealthPort"] = health.ToString(CultureInfo.InvariantCulture),
            // Each its own SQLite store (a killed manager leaves nothing another one waits on); the tests count FIM_ALERTS.
            ["Fim__Store__DataDirectory"] = Path.Combine(workDir, $"manager-store-{n}"),
            ["Fim__Sinks__Stdout__Enabled"] = "false",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>())
        {
            env[k] = v;
        }

        var process = ChildProcess.Dotnet(Programs.Manager, [], env);
        _all.Add(process);
        return new Manager(process, health, $"manager-{n}");
    }

    public static async Task<bool> IsReadyAsync(Manager m)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            return (await http.GetAsync($"http://127.0.0.1:{m.HealthPort}/readyz")).StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public static Task AwaitReadyAsync(Manager m) =>
        Eventually.TrueAsync(async () => m.Process.HasExited ? throw new InvalidOperationException($"{m.Name} exited:\n{m.Process.Output}") : await IsReadyAsync(m),
            () => $"{m.Name} ready on health port {m.HealthPort}\n{m.Process.Output}", ReadyTimeout);

    public void Dispose()
    {
        foreach (var p in _all)
        {
            p.Dispose();
        }
    }
}

/// <summary>A Slack-like webhook on 127.0.0.1 that answers 200 and keeps the "text" of every post.</summary>
internal sealed class TextWebhook : IDisposable
{
    private readonly HttpListener _listener = new();

    public TextWebhook()
    {
        Url = $"http://127.0.0.1:{NatsServer.FreePort()}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public ConcurrentQueue<string> Texts { get; } = new();

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using (var reader = new StreamReader(context.Request.InputStream))
            {
                var body = await reader.ReadToEndAsync();
                Texts.Enqueue(System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("text").GetString() ?? "");
            }

            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    public void Dispose() => _listener.Close();
}

using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Fim.Contracts;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.EndToEnd.Tests;

/// <summary>
/// The whole pipeline as real processes on loopback: nats-server with JetStream, manager processes, and one
/// agent in connected mode watching a temp tree through a local policy.
/// </summary>
public sealed class Pipeline : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    public const string AgentId = "e2e-agent";

    private readonly List<Manager> _managers = [];
    private readonly List<ChildProcess> _agents = [];
    private NatsConnection? _nats;
    private IReadOnlyDictionary<string, string>? _managerSettings;

    private Pipeline(NatsServer server, string root, OidcProvider oidc)
    {
        Oidc = oidc;
        Server = server;
        Root = root;
        Tree = Path.Combine(root, "tree");
        Directory.CreateDirectory(Tree);
    }

    public NatsServer Server { get; }
    /// <summary>The identity provider the managers trust; <see cref="AdminHttp"/> and <see cref="CtlEnvironment"/> call as its admin client.</summary>
    public OidcProvider Oidc { get; }
    public int AgentMetricsPort { get; } = NatsServer.FreePort();
    public string Root { get; }
    public string Tree { get; }
    public IReadOnlyList<Manager> Managers => _managers;

    public sealed record Manager(ChildProcess Process, int HttpPort, int GrpcPort)
    {
        public string RestUrl => $"http://127.0.0.1:{HttpPort}";
        public string GrpcUrl => $"http://127.0.0.1:{GrpcPort}";
    }

    /// <summary>Starts nats-server unless <paramref name="natsLater"/>, then the managers.</summary>
    /// <param name="managerSettings">Extra manager settings as environment variables (Fim__Fleet__DisconnectedAfter=...).</param>
    public static async Task<Pipeline> StartAsync(int managers, bool natsLater = false, IReadOnlyDictionary<string, string>? managerSettings = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "fim-e2e-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        NatsServer server;
        if (natsLater)
        {
            server = await NatsServer.CreateStoppedAsync(Path.Combine(root, "nats"));
        }
        else
        {
            server = await NatsServer.StartAsync(workDir: Path.Combine(root, "nats"));
        }
        var p = new Pipeline(server, root, await OidcProvider.SharedAsync()) { _managerSettings = managerSettings };
        for (var i = 0; i < managers; i++)
        {
            p.StartManager();
        }
        if (!natsLater)
        {
            foreach (var m in p._managers)
            {
                await p.AwaitReadyAsync(m);
            }
        }
        return p;
    }

    public Manager StartManager()
    {
        var http = NatsServer.FreePort();
        var grpc = NatsServer.FreePort();
        var env = Oidc.ManagerSettings(browserLogin: false).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value ?? "");
        // The tests poll the API every 20 ms (Eventually, the searchable-latency pollers): at the default 600 calls a
        // minute per caller a quiet machine is refused mid-test (429) and waits out the window. The limit is tested
        // in the manager's AuthTests; a test may still set its own.
        env["Fim__Api__RequestsPerCallerPerMinute"] = "1000000";
        foreach (var (key, value) in _managerSettings ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }
        var process = ChildProcess.Dotnet(Programs.Manager, [], new Dictionary<string, string>(env)
        {
            ["Fim__Nats__Url"] = Server.Url,
            ["Fim__Api__Address"] = "127.0.0.1",
            ["Fim__Api__HttpPort"] = http.ToString(),
            ["Fim__Api__GrpcPort"] = grpc.ToString(),
            ["Fim__Nats__ClientName"] = $"e2e-manager-{_managers.Count}",
            // A killed manager's unacked events come back this fast (the default is 30 s).
            ["Fim__Pipeline__AckWait"] = "00:00:03",
            // The pipeline's managers share one SQLite alert store: one indexes it, every one answers queries from it.
            ["Fim__Store__DataDirectory"] = Path.Combine(Root, "manager-store"),
        });

        var m = new Manager(process, http, grpc);
        _managers.Add(m);
        return m;
    }

    /// <summary>A REST client that calls the managers as an admin.</summary>
    public HttpClient AdminHttp(TimeSpan? timeout = null) =>
        new(Oidc.BearerHandler(OidcProvider.Admin)) { Timeout = timeout ?? TimeSpan.FromSeconds(100) };

    /// <summary>fimctl's environment: an admin token in FIM_TOKEN.</summary>
    public async Task<Dictionary<string, string>> CtlEnvironmentAsync() =>
        new() { ["FIM_TOKEN"] = await Oidc.TokenAsync(OidcProvider.Admin) };

    public async Task AwaitReadyAsync(Manager m)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await http.GetAsync(m.RestUrl + "/readyz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (m.Process.HasExited || deadline.Elapsed > Deadline)
            {
                throw new TimeoutException($"manager not ready on {m.RestUrl}\n{m.Process.Output}");
            }
            await Task.Delay(100);
        }
    }

    public async Task<bool> IsReadyAsync(Manager m)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            return (await http.GetAsync(m.RestUrl + "/readyz")).IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Starts the agent on the tree (a local policy, realtime on) and waits until it monitors; with
    /// <paramref name="localPolicy"/> false it takes its policies from KV fim-policies, as under the operator.
    /// </summary>
    /// <param name="policyPaths">Paths the local policy monitors instead of <see cref="Tree"/>.</param>
    /// <param name="extraConfig">YAML appended to agent.yaml as is (hostRoot, packages...).</param>
    /// <param name="policyText">The whole local policy instead (sources, ...).</param>
    public async Task<ChildProcess> StartAgentAsync(bool awaitApplied = true, bool localPolicy = true, IReadOnlyList<string>? policyPaths = null, string extraConfig = "",
        string? policyText = null)
    {
        var policy = Path.Combine(Root, "policy.yaml");
        File.WriteAllText(policy, policyText ?? "name: e2e\npaths:\n" + string.Concat((policyPaths ?? [Tree]).Select(p => $"  - path: {p}\n")));
        var policyLine = localPolicy ? $"policyFile: {policy}" : "";
        var config = Path.Combine(Root, "agent.yaml");
        File.WriteAllText(config, $"""
            agentId: {AgentId}
            labels: {"{"} role: web {"}"}
            nats:
              url: {Server.Url}
            stateDir: {Path.Combine(Root, "state")}
            keyFile: {Path.Combine(Root, "keys", "baseline.key")}
            {policyLine}
            heartbeatInterval: 2s
            metricsListen: 127.0.0.1:{AgentMetricsPort}
            {extraConfig}
            """);
        var agent = ChildProcess.Agent(["run", "--config", config]);
        _agents.Add(agent);
        if (awaitApplied && localPolicy)
        {
            await agent.AwaitLogAsync("revision 0 applied", Deadline);
        }
        return agent;
    }

    /// <summary>The agent's fim_agent_outbox_depth gauge, read from its /metrics.</summary>
    public async Task<double?> AgentOutboxDepthAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            var text = await http.GetStringAsync($"http://127.0.0.1:{AgentMetricsPort}/metrics");
            var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("fim_agent_outbox_depth ", StringComparison.Ordinal));
            return line is null ? null : double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public async Task<INatsJSContext> JetStreamAsync()
    {
        if (_nats is null)
        {
            _nats = new NatsConnection(new NatsOpts { Url = Server.Url, Name = "e2e-test" });
            await _nats.ConnectAsync();
        }
        return new NatsJSContext(_nats);
    }

    public async Task<List<StreamMessage>> EventsAsync() => await StreamContents.ReadAllAsync(await JetStreamAsync(), Subjects.EventsStream);

    public async Task<List<StreamMessage>> AlertsAsync() => await StreamContents.ReadAllAsync(await JetStreamAsync(), Subjects.AlertsStream);

    /// <summary>
    /// Waits until the pipeline is quiet and whole: every event has its alert. Then checks there is no duplicate
    /// event, no duplicate alert, and no alert without its event. Returns the events.
    /// </summary>
    public async Task<List<StreamMessage>> AwaitEveryEventAlertedAsync(Func<List<StreamMessage>, bool> eventsComplete, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        List<StreamMessage> events = [], alerts = [];
        while (deadline.Elapsed < (timeout ?? Deadline))
        {
            events = await EventsAsync();
            alerts = await AlertsAsync();
            if (eventsComplete(events) && alerts.Count >= events.Count)
            {
                break;
            }
            await Task.Delay(200);
        }
        var eventIds = events.Select(e => e.Body.GetProperty("eventId").GetString()!).ToList();
        var alertEventIds = alerts.Select(a => a.Body.GetProperty("eventId").GetString()!).ToList();
        Assert.True(eventsComplete(events), $"events incomplete: {events.Count}: {Describe(events)}\n{Logs()}");
        Assert.Equal(eventIds.Count, eventIds.Distinct().Count());
        Assert.Equal(alertEventIds.Count, alertEventIds.Distinct().Count());
        Assert.Equal(eventIds.Order(), alertEventIds.Order());
        return events;
    }

    public static string Describe(IEnumerable<StreamMessage> ms) =>
        string.Join("; ", ms.Select(m => $"{m.Body.GetProperty("kind").GetString()} {m.Body.GetProperty("path").GetString()}"));

    public static HashSet<string> Paths(IEnumerable<StreamMessage> ms) =>
        ms.Select(m => m.Body.GetProperty("path").GetString()!).ToHashSet();

    public string Logs() => string.Join('\n', _managers.Select(m => m.Process.Output).Concat(_agents.Select(a => a.Output)));

    public async ValueTask DisposeAsync()
    {
        foreach (var a in _agents)
        {
            a.Dispose();
        }
        foreach (var m in _managers)
        {
            m.Process.Dispose();
        }
        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Root, true);
        }
        catch (IOException)
        {
        }
    }
}

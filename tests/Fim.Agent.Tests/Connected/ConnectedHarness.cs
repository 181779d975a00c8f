using System.Diagnostics;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using Fim.Agent.Tests.Support;
using Fim.Contracts;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Fim.Agent.Tests.Connected;

/// <summary>An event as JetStream stored it.</summary>
/// <summary>
/// A real nats-server with the streams and buckets the managers/operator would create, a temp tree, an agent
/// config, and the real fim-agent process in `run` mode. Every wait has a deadline.
/// </summary>
public sealed class ConnectedHarness : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = Eventually.DefaultTimeout;

    private readonly List<AgentProcess> _agents = [];

    private ConnectedHarness(NatsServer server, TempTree tree, NatsConnection admin)
    {
        Server = server;
        Tree = tree;
        Admin = admin;
        Js = new NatsJSContext(admin);
        Kv = new NatsKVContext(Js);
    }

    public NatsServer Server { get; }
    public TempTree Tree { get; }
    public NatsConnection Admin { get; }
    public NatsJSContext Js { get; }
    public NatsKVContext Kv { get; }
    public string AgentId { get; set; } = "agent-a";
    public string ConfigFile => Path.Combine(Tree.Root, "agent.yaml");
    public int MetricsPort { get; } = NatsServer.FreePort();

    public static async Task<ConnectedHarness> StartAsync(string name, bool createStreams = true, string? serverConfig = null, NatsOpts? adminOpts = null)
    {
        var server = await NatsServer.StartAsync(serverConfig);
        var admin = new NatsConnection((adminOpts ?? NatsOpts.Default) with { Url = server.Url, RequestTimeout = TimeSpan.FromSeconds(30) });
        await admin.ConnectAsync();
        var h = new ConnectedHarness(server, new TempTree(name), admin);
        if (createStreams)
        {
            await h.CreateStreamsAsync();
        }
        return h;
    }

    /// <summary>What the managers and the operator create: the events and scans streams (2 min dedupe window) and both buckets.</summary>
    public async Task CreateStreamsAsync()
    {
        await Js.CreateStreamAsync(new StreamConfig(Subjects.EventsStream, [Subjects.AllEvents])
        {
            Storage = StreamConfigStorage.File,
            DuplicateWindow = TimeSpan.FromMinutes(2),
        });
        await Js.CreateStreamAsync(new StreamConfig(Subjects.ScansStream, [Subjects.AllScans])
        {
            Storage = StreamConfigStorage.File,
            DuplicateWindow = TimeSpan.FromMinutes(2),
        });
        await Kv.CreateStoreAsync(new NatsKVConfig(Subjects.PoliciesBucket) { History = 5 });
        await Kv.CreateStoreAsync(new NatsKVConfig(Subjects.AgentsBucket) { History = 1 });
    }

    /// <summary>Writes agent.yaml; <paramref name="extra"/> is appended as is (YAML).</summary>
    public void WriteConfig(string? policyFile = null, string labels = "{ role: web, zone: a }", string extra = "", string? url = null)
    {
        File.WriteAllText(ConfigFile, $"""
            agentId: {AgentId}
            labels: {labels}
            nats:
              url: {url ?? Server.Url}
            stateDir: {Tree.State}
            keyFile: {Tree.KeyFile}
            {(policyFile is null ? "" : "policyFile: " + policyFile)}
            heartbeatInterval: 2s
            metricsListen: 127.0.0.1:{MetricsPort}
            {extra}
            """);
    }

    /// <summary>A policy file (YAML) over <paramref name="paths"/> with realtime on.</summary>
    public string WritePolicy(string name, params string[] paths)
    {
        var file = Path.Combine(Tree.Root, name + ".yaml");
        File.WriteAllText(file, $"name: {name}\npaths:\n" + string.Concat(paths.Select(p => $"  - path: {p}\n")));
        return file;
    }

    public AgentProcess StartAgent(IDictionary<string, string>? env = null)
    {
        var agent = new AgentProcess(["run", "--config", ConfigFile], env);
        _agents.Add(agent);
        return agent;
    }

    /// <summary>Every message in FIM_EVENTS, in stream order.</summary>
    public Task<List<StreamMessage>> ReadEventsAsync() => StreamContents.ReadAllAsync(Js, Subjects.EventsStream, Deadline);

    /// <summary>Waits until the stream holds events satisfying <paramref name="condition"/>; returns them all.</summary>
    public async Task<List<StreamMessage>> AwaitEventsAsync(Func<List<StreamMessage>, bool> condition, TimeSpan? timeout = null, Func<string>? context = null)
    {
        var deadline = Stopwatch.StartNew();
        List<StreamMessage> events = [];
        while (deadline.Elapsed < (timeout ?? Deadline))
        {
            events = await ReadEventsAsync();
            if (condition(events))
            {
                return events;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"condition not met within {timeout ?? Deadline}; {events.Count} events: " +
            string.Join("; ", events.Select(e => $"{e.Kind} {e.Path}")) + "\n" + context?.Invoke());
    }

    public async Task PutPolicyAsync(string key, long revision, string name, object spec, object? selector = null)
    {
        var store = await Kv.GetStoreAsync(Subjects.PoliciesBucket);
        var document = new PolicyDocument
        {
            Revision = revision,
            Name = name,
            Selector = selector is null ? null : JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(selector), ContractJson.Default.LabelSelector),
            Spec = JsonSerializer.SerializeToElement(spec),
        };
        await store.PutAsync(key, ContractJson.ToUtf8(document));
    }

    public async Task PutRawPolicyAsync(string key, string json)
    {
        var store = await Kv.GetStoreAsync(Subjects.PoliciesBucket);
        await store.PutAsync(key, Encoding.UTF8.GetBytes(json));
    }

    public async Task DeletePolicyAsync(string key)
    {
        var store = await Kv.GetStoreAsync(Subjects.PoliciesBucket);
        await store.DeleteAsync(key);
    }

    /// <summary>The agent's heartbeat, read with the shared record, once it satisfies <paramref name="condition"/>.</summary>
    public async Task<Heartbeat> AwaitHeartbeatAsync(Func<Heartbeat, bool> condition, Func<string>? context = null)
    {
        var store = await Kv.GetStoreAsync(Subjects.AgentsBucket);
        var deadline = Stopwatch.StartNew();
        string? last = null;
        while (deadline.Elapsed < Deadline)
        {
            var entry = await store.TryGetEntryAsync<byte[]>(AgentId);
            if (entry.Success && entry.Value.Value is { } bytes)
            {
                last = Encoding.UTF8.GetString(bytes);
                var hb = JsonSerializer.Deserialize(bytes, ContractJson.Default.Heartbeat)!;
                if (condition(hb))
                {
                    return hb;
                }
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"no matching heartbeat within {Deadline}; last: {last}\n{context?.Invoke()}");
    }

    /// <summary>Sends a command and returns the reply; waits (with the deadline) while the agent is not subscribed yet.</summary>
    public async Task<JsonElement> CommandAsync(string json)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var reply = await Admin.RequestAsync<byte[], byte[]>(Subjects.AgentCommand(AgentId), Encoding.UTF8.GetBytes(json),
                    replyOpts: new NatsSubOpts { Timeout = TimeSpan.FromSeconds(10) });
                return JsonDocument.Parse(reply.Data!).RootElement.Clone();
            }
            catch (NatsNoRespondersException) when (deadline.Elapsed < Deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>A metric's value from the agent's /metrics (sum over labels), or null when not exported yet.</summary>
    public async Task<double?> MetricAsync(string name)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        string text;
        try
        {
            text = await http.GetStringAsync($"http://127.0.0.1:{MetricsPort}/metrics");
        }
        catch (HttpRequestException)
        {
            return null;
        }
        double? sum = null;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && (line.Length > name.Length && line[name.Length] is ' ' or '{'))
            {
                sum = (sum ?? 0) + double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return sum;
    }

    public async Task AwaitMetricAsync(string name, Func<double, bool> condition, Func<string>? context = null)
    {
        var deadline = Stopwatch.StartNew();
        double? value = null;
        while (deadline.Elapsed < Deadline)
        {
            value = await MetricAsync(name);
            if (value is { } v && condition(v))
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"metric {name} = {value?.ToString() ?? "absent"} did not meet the condition within {Deadline}\n{context?.Invoke()}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var a in _agents)
        {
            a.Dispose();
        }
        await Admin.DisposeAsync();
        await Server.DisposeAsync();
        Tree.Dispose();
    }
}

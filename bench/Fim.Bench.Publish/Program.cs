// Outbox drain rate of the real agent into JetStream: fill the outbox with NATS down, start NATS, and time the
// stored events by the stream's own first/last timestamps.
//   dotnet run -c Release --project bench/Fim.Bench.Publish -- [events=20000] [publishMaxInFlight=256] [runs=3]
using System.Diagnostics;
using System.Globalization;
using Fim.Contracts;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

var events = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
var inFlight = args.Length > 1 ? args[1] : "256";
var runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
for (var run = 1; run <= runs; run++)
{
    var (stored, seconds) = await DrainOnce(events, inFlight);
    Console.WriteLine($"run {run}: publishMaxInFlight {inFlight}: {stored} events stored in {seconds:F2} s: {stored / seconds:F0} events/s");
}

static async Task<(long Stored, double Seconds)> DrainOnce(int count, string inFlight)
{
    var root = Path.Combine(Path.GetTempPath(), "fim-bench-publish-" + Guid.NewGuid().ToString("N")[..8]);
    var tree = Path.Combine(root, "tree");
    Directory.CreateDirectory(tree);
    await using var server = await NatsServer.StartAsync();
    await using var admin = new NatsConnection(NatsOpts.Default with { Url = server.Url });
    var js = new NatsJSContext(admin);
    await js.CreateStreamAsync(new StreamConfig(Subjects.EventsStream, [Subjects.AllEvents]) { DuplicateWindow = TimeSpan.FromMinutes(2) });
    var kv = new NatsKVContext(js);
    await kv.CreateStoreAsync(Subjects.PoliciesBucket);
    await kv.CreateStoreAsync(Subjects.AgentsBucket);

    var metricsPort = NatsServer.FreePort();
    File.WriteAllText(Path.Combine(root, "policy.yaml"), $"name: bench\npaths:\n  - path: {tree}\n");
    File.WriteAllText(Path.Combine(root, "agent.yaml"), $"""
        agentId: bench
        nats: {"{"} url: "{server.Url}" {"}"}
        stateDir: {root}/state
        keyFile: {root}/key
        policyFile: {root}/policy.yaml
        publishMaxInFlight: {inFlight}
        outboxMaxEvents: {count * 2}
        metricsListen: 127.0.0.1:{metricsPort}
        """);
    using var agent = ChildProcess.Dotnet(Path.Combine(AppContext.BaseDirectory, "fim-agent.dll"), ["run", "--config", Path.Combine(root, "agent.yaml")]);
    var started = Stopwatch.StartNew();
    agent.StderrLine += line =>
    {
        // Publisher trouble (retries, backoff) explains slow runs.
        if (Environment.GetEnvironmentVariable("FIM_BENCH_VERBOSE") == "1" && line.Contains("EventPublisher", StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"{started.Elapsed.TotalSeconds,8:F3} {line}");
        }
    };
    try
    {
        await Until(async () => await Metric(metricsPort, "fim_agent_baseline_entries") >= 1, "the agent to record its baseline");
        await server.StopAsync();
        for (var i = 0; i < count; i++)
        {
            File.WriteAllText(Path.Combine(tree, $"f{i:D6}"), "x");
        }
        await Until(async () => await Metric(metricsPort, "fim_agent_outbox_depth") >= count, $"{count} events in the outbox");
        await server.StartAsync();
        StreamState? state = null;
        await Until(async () =>
        {
            try
            {
                state = (await js.GetStreamAsync(Subjects.EventsStream)).Info.State;
                return state.Messages >= count;
            }
            catch (NatsException)
            {
                return false;
            }
        }, "every event stored");
        var elapsed = DateTimeOffset.Parse(state!.LastTs!, CultureInfo.InvariantCulture) - DateTimeOffset.Parse(state.FirstTs!, CultureInfo.InvariantCulture);
        return (state.Messages, elapsed.TotalSeconds);
    }
    finally
    {
        agent.Kill();
        Directory.Delete(root, recursive: true);
    }
}

static async Task Until(Func<Task<bool>> condition, string what)
{
    var deadline = Stopwatch.StartNew();
    while (!await condition())
    {
        if (deadline.Elapsed > TimeSpan.FromMinutes(5))
        {
            throw new TimeoutException($"waited 5 minutes for {what}");
        }
        await Task.Delay(50);
    }
}

static async Task<double> Metric(int port, string name)
{
    using var http = new HttpClient();
    try
    {
        var text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return line is null ? -1 : double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
    }
    catch (HttpRequestException)
    {
        return -1;
    }
}

using System.Diagnostics;
using System.Globalization;
using Fim.Contracts;
using Fim.Manager;
using Fim.Manager.Nats;
using Fim.Manager.Sinks;
using Fim.Manager.Telemetry;
using Fim.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

// Manager throughput on this machine: N events stored in FIM_EVENTS, then
//  (a) a bare consume + ack of them (the ceiling: no JSON, no rules, no alert publish), and
//  (b) the manager pipeline over the same stored messages (validate, rules, alert publish awaited by JetStream, ack),
// and the same with two manager instances sharing the consumer. Usage: Fim.Bench.Manager [events] [payload: small|full]
var count = args.Length > 0 && int.TryParse(args[0], CultureInfo.InvariantCulture, out var n) ? n : 100_000;
Console.WriteLine($"events: {count:N0}, cores: {Environment.ProcessorCount}, nats-server: {Version()}");

if (args.Contains("--cpu"))
{
    CpuOnly();
    return 0;
}

// Warm-up (JIT, tiered compilation, connection pools) on a throwaway server; not reported.
await using (var warm = await NatsServer.StartAsync())
{
    await using var c = new NatsConnection(NatsOpts.Default with { Url = warm.Url });
    await c.ConnectAsync();
    var wjs = new NatsJSContext(c);
    await CreateStreamsAsync(wjs);
    await PublishAsync(c, 50_000);
    await BareConsumeAsync(warm, wjs, 50_000);
    await PipelineAsync(warm, 50_000, 1, quiet: true);
}

var results = new List<(string Name, double Rate)>();
var pipelineOnly = args.Contains("--pipeline-only");
foreach (var managers in pipelineOnly ? new[] { 1 } : new[] { 1, 2 })
{
    await using var server = await NatsServer.StartAsync();
    await using var connection = new NatsConnection(NatsOpts.Default with { Url = server.Url });
    await connection.ConnectAsync();
    var js = new NatsJSContext(connection);
    await CreateStreamsAsync(js);
    var published = Stopwatch.StartNew();
    await PublishAsync(connection, count);
    Console.WriteLine($"[{managers} manager(s)] published {count:N0} events in {published.Elapsed.TotalSeconds:F2} s ({count / published.Elapsed.TotalSeconds:N0}/s)");

    if (args.Contains("--nats-ceiling"))
    {
        Console.WriteLine($"(c) consume + publish fixed alert + ack on its answer: {await NatsCeilingAsync(server, count):N0} events/s");
        return 0;
    }
    if (pipelineOnly)
    {
        Console.WriteLine($"(b) manager pipeline: {await PipelineAsync(server, count, 1):N0} events/s");
        return 0;
    }
    var bare = await BareConsumeAsync(server, js, count);
    Console.WriteLine($"[{managers} manager(s)] (a) bare consume + ack:   {bare:N0} events/s");
    if (managers == 1)
    {
        var ceiling = await NatsCeilingAsync(server, count);
        Console.WriteLine($"[1 manager(s)] (c) NATS work only:        {ceiling:N0} events/s  ratio {ceiling / bare:F2}  (consume, publish a fixed alert, ack on its answer)");
        results.Add(("ceiling", ceiling));
        var stock = await NatsCeilingAsync(server, count, stockClient: true);
        Console.WriteLine($"[1 manager(s)] (c') the same, stock client:  {stock:N0} events/s  ratio {stock / bare:F2}  (NatsJSContext.PublishAsync instead of JetStreamPublisher)");
        results.Add(("stock", stock));
    }
    var pipeline = await PipelineAsync(server, count, managers);
    Console.WriteLine($"[{managers} manager(s)] (b) manager pipeline:     {pipeline:N0} events/s  ratio {pipeline / bare:F2}");
    results.Add(($"bare ({managers})", bare));
    results.Add(($"pipeline x{managers}", pipeline));
}
var rates = results.ToDictionary(r => r.Name, r => r.Rate);
Console.WriteLine();
Console.WriteLine($"summary: bare {rates["bare (1)"]:N0}/s, NATS work only {rates["ceiling"]:N0}/s (ratio {rates["ceiling"] / rates["bare (1)"]:F2}), " +
    $"stock client {rates["stock"]:N0}/s (ratio {rates["stock"] / rates["bare (1)"]:F2}), " +
    $"one manager {rates["pipeline x1"]:N0}/s (ratio {rates["pipeline x1"] / rates["bare (1)"]:F2}, {rates["pipeline x1"] / rates["ceiling"]:F2} of the NATS-only rate), " +
    $"two managers {rates["pipeline x2"]:N0}/s (ratio {rates["pipeline x2"] / rates["bare (2)"]:F2} to that run's bare {rates["bare (2)"]:N0}/s)");
return 0;

static async Task CreateStreamsAsync(NatsJSContext js)
{
    await js.CreateStreamAsync(new StreamConfig(Subjects.EventsStream, [Subjects.AllEvents])
    {
        Storage = StreamConfigStorage.File,
        DuplicateWindow = TimeSpan.FromMinutes(2),
    });
}

static async Task PublishAsync(NatsConnection connection, int count)
{
    const int Agents = 100;
    await using var publisher = await JetStreamPublisher.StartAsync(connection, TimeSpan.FromSeconds(10), CancellationToken.None);
    var window = new Queue<Task<PublishAck>>();
    for (var i = 0; i < count; i++)
    {
        var agent = $"agent-{i % Agents:D3}";
        var e = new FileEvent
        {
            EventId = $"{agent}:boot1:{i}",
            AgentId = agent,
            Host = agent + ".example.internal",
            Policy = "default.etc",
            Path = $"/etc/app/conf.d/file-{i % 5000}.conf",
            Kind = (i % 10) switch { 0 => "added", 1 => "deleted", 2 => "attributes", _ => "modified" },
            Changed = (i % 10) switch { 0 or 1 => [], 2 => ["mode"], _ => ["size", "mtime", "sha256"] },
            Before = new FileState { Type = "regular", Size = 1200, Mode = "0644", Uid = 0, Gid = 0, Owner = "root", Group = "root", Inode = 1000 + (ulong)i, Nlink = 1, Sha256 = new string('a', 64) },
            After = new FileState { Type = "regular", Size = 1234, Mode = "0644", Uid = 0, Gid = 0, Owner = "root", Group = "root", Inode = 1000 + (ulong)i, Nlink = 1, Sha256 = new string('b', 64) },
            Source = "realtime",
            ObservedAt = DateTimeOffset.UtcNow,
            PublishedAt = DateTimeOffset.UtcNow,
        };
        var headers = new NatsHeaders { ["traceparent"] = $"00-{Guid.NewGuid():N}-{i:x16}-01" };
        window.Enqueue(await publisher.PublishAsync(Subjects.Events(agent), ContractJson.ToUtf8(e), e.EventId, headers, CancellationToken.None));
        while (window.Count >= 4000 || (i == count - 1 && window.Count > 0))
        {
            var ack = await window.Dequeue();
            if (!ack.Stored)
            {
                throw new InvalidOperationException($"event not stored: {ack.Error}");
            }
        }
    }
}

// (c) The NATS work of the pipeline without JSON or rules (a fixed alert of the same size per event): the most any
// manager on this client and server can do, to show how much of the pipeline's cost is the client library and the server.
// stockClient: publish with the client's own NatsJSContext.PublishAsync (a request per alert, awaited by a task)
// instead of the manager's JetStreamPublisher, to show whether that shortcut still earns its keep.
static async Task<double> NatsCeilingAsync(NatsServer server, int count, bool stockClient = false)
{
    var variant = stockClient ? "stock" : "own";
    await using var connection = new NatsConnection(NatsOpts.Default with { Url = server.Url });
    await using var pubConnection = new NatsConnection(NatsOpts.Default with { Url = server.Url });
    var js = new NatsJSContext(connection);
    // A stream of its own, configured as the manager configures FIM_ALERTS, so the pipeline's run after this is untouched.
    await js.CreateStreamAsync(new StreamConfig("BENCH_CEILING", ["bench.alerts.>"]) { Storage = StreamConfigStorage.File, DuplicateWindow = TimeSpan.FromMinutes(2) });
    var consumer = await js.CreateOrUpdateConsumerAsync(Subjects.EventsStream, new ConsumerConfig("bench-ceiling-" + variant)
    {
        DurableName = "bench-ceiling-" + variant,
        AckPolicy = ConsumerConfigAckPolicy.Explicit,
        MaxAckPending = 20_000,
    });
    await using var publisher = stockClient ? null : await JetStreamPublisher.StartAsync(pubConnection, TimeSpan.FromSeconds(10), CancellationToken.None);
    var stockJs = new NatsJSContext(pubConnection);
    var alert = new byte[1100]; // the size of the pipeline's alerts
    var acked = 0;
    using var slots = new SemaphoreSlim(2048);
    var clock = Stopwatch.StartNew();
    var (clientCpu, serverCpu) = (Process.GetCurrentProcess().TotalProcessorTime, server.CpuTime);
    var allocated = GC.GetTotalAllocatedBytes();
    var seen = 0;
    await foreach (var msg in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, new NatsJSConsumeOpts { MaxMsgs = 1000 }))
    {
        await slots.WaitAsync();
        var headers = new NatsHeaders { ["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
        var subject = "bench.alerts.7." + msg.Subject[11..];
        var id = $"{variant}-alert:{msg.Metadata!.Value.Sequence.Stream}";
        if (publisher is null)
        {
            _ = PublishStockAsync(stockJs, subject, alert, id, headers, msg, slots, () => Interlocked.Increment(ref acked));
        }
        else
        {
            await publisher.PublishAsync(subject, alert, id, headers, new AckOnStored(msg, slots, () => Interlocked.Increment(ref acked)), CancellationToken.None);
        }
        if (++seen == count)
        {
            break;
        }
    }
    while (Volatile.Read(ref acked) < count)
    {
        await Task.Delay(1);
    }
    var rate = count / clock.Elapsed.TotalSeconds;
    Console.WriteLine($"  CPU per event: client {(Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalMicroseconds / count:F1} us, " +
        $"nats-server {(server.CpuTime - serverCpu).TotalMicroseconds / count:F1} us, allocations {(GC.GetTotalAllocatedBytes() - allocated) / count:N0} bytes");
    return rate;
}

static async Task<double> BareConsumeAsync(NatsServer server, NatsJSContext js, int count)
{
    var consumer = await js.CreateOrUpdateConsumerAsync(Subjects.EventsStream, new ConsumerConfig("bench-bare")
    {
        DurableName = "bench-bare",
        AckPolicy = ConsumerConfigAckPolicy.Explicit,
        MaxAckPending = 20_000,
        DeliverPolicy = ConsumerConfigDeliverPolicy.All,
    });
    var seen = 0;
    var clock = Stopwatch.StartNew();
    var (clientCpu, serverCpu) = (Process.GetCurrentProcess().TotalProcessorTime, server.CpuTime);
    await foreach (var msg in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, new NatsJSConsumeOpts { MaxMsgs = 1000 }))
    {
        await msg.AckAsync();
        if (++seen == count)
        {
            break;
        }
    }
    var rate = count / clock.Elapsed.TotalSeconds;
    Console.WriteLine($"  CPU per event: client {(Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalMicroseconds / count:F1} us, " +
        $"nats-server {(server.CpuTime - serverCpu).TotalMicroseconds / count:F1} us");
    // The acks were only written: wait until the server has them, then drop the consumer.
    while ((await js.GetConsumerAsync(Subjects.EventsStream, "bench-bare")).Info.NumAckPending > 0)
    {
        await Task.Delay(10);
    }
    await js.DeleteConsumerAsync(Subjects.EventsStream, "bench-bare");
    return rate;
}

static async Task<double> PipelineAsync(NatsServer server, int count, int instances, bool quiet = false)
{
    var natsUrl = server.Url;
    var apps = new List<WebApplication>();
    for (var i = 0; i < instances; i++)
    {
        apps.Add(ManagerApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Fim:Nats:Url"] = natsUrl,
                ["Fim:Api:Address"] = "127.0.0.1",
                ["Fim:Api:HttpPort"] = NatsServer.FreePort().ToString(CultureInfo.InvariantCulture),
                ["Fim:Api:GrpcPort"] = NatsServer.FreePort().ToString(CultureInfo.InvariantCulture),
                ["Fim:Sinks:Stdout:Enabled"] = "false",
                ["Fim:Telemetry:LogLevel"] = "Warning",
                // The pipeline alone: the alert store's indexer is measured by bench/Fim.Bench.Store (--Fim:Store:Indexer=true adds it here).
                ["Fim:Store:Indexer"] = "false",
                ["Fim:Store:DataDirectory"] = Path.Combine(server.WorkDir, $"manager-store-{i}"),
            });
            // Extra manager settings from the command line: --Fim:Pipeline:BatchSize=2000 ...
            builder.Configuration.AddInMemoryCollection(Environment.GetCommandLineArgs().Where(a => a.StartsWith("--Fim:", StringComparison.Ordinal))
                .Select(a => a[2..].Split('=', 2)).Select(kv => new KeyValuePair<string, string?>(kv[0], kv.Length > 1 ? kv[1] : "true")));
            builder.Services.AddSingleton(new AlertOutput(Stream.Null));
        }));
    }
    var metrics = apps.Select(a => a.Services.GetRequiredService<ManagerMetrics>()).ToList();
    double Settled() => metrics.Sum(m => m.EventsConsumed.Value);
    await Task.WhenAll(apps.Select(a => a.StartAsync()));
    // Time from the first settled event to the last, so connecting and stream setup are not counted.
    var waiting = Stopwatch.StartNew();
    while (Settled() < 1)
    {
        if (waiting.Elapsed > TimeSpan.FromMinutes(1))
        {
            throw new TimeoutException("the pipeline settled nothing within a minute");
        }
        await Task.Delay(1);
    }
    using var allocationTypes = Environment.GetCommandLineArgs().Contains("--alloc-types") ? new AllocationSampler() : null;
    var clock = Stopwatch.StartNew();
    var startCount = Settled();
    var (managerCpu, serverCpu) = (Process.GetCurrentProcess().TotalProcessorTime, server.CpuTime);
    var allocated = GC.GetTotalAllocatedBytes();
    while (Settled() < count)
    {
        if (clock.Elapsed > TimeSpan.FromMinutes(5))
        {
            throw new TimeoutException($"the pipeline settled only {Settled():N0} of {count:N0} events in 5 minutes");
        }
        await Task.Delay(2);
    }
    var rate = (count - startCount) / clock.Elapsed.TotalSeconds;
    // CPU per event on each side of the socket: where the time goes, and what a faster manager could still win.
    managerCpu = Process.GetCurrentProcess().TotalProcessorTime - managerCpu;
    serverCpu = server.CpuTime - serverCpu;
    allocated = GC.GetTotalAllocatedBytes() - allocated;
    allocationTypes?.Print(count - startCount);
    var alerts = metrics.Sum(m => m.Alerts.WithLabels("5").Value + m.Alerts.WithLabels("7").Value + m.Alerts.WithLabels("9").Value + m.Alerts.WithLabels("3").Value);
    if (!quiet)
    {
        Console.WriteLine($"  alerts acked by JetStream: {alerts:N0}, dead letters: {metrics.Sum(m => m.DeadLetters.WithLabels(Fim.Contracts.DeadLetter.MalformedJson).Value):N0}" +
            $", CPU per event: manager {managerCpu.TotalMicroseconds / (count - startCount):F1} us, nats-server {serverCpu.TotalMicroseconds / (count - startCount):F1} us, " +
            $"manager allocations {allocated / (count - startCount):N0} bytes" +
            (instances > 1 ? $", split {string.Join(" / ", metrics.Select(m => m.EventsConsumed.Value.ToString("N0", CultureInfo.InvariantCulture)))}" : ""));
    }
    foreach (var app in apps)
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
    return rate;
}

static void CpuOnly()
{
    var e = new FileEvent
    {
        EventId = "agent-001:boot1:1",
        AgentId = "agent-001",
        Host = "h",
        Policy = "p",
        Path = "/etc/app/conf.d/file-1.conf",
        Kind = "modified",
        Changed = ["size", "mtime", "sha256"],
        Source = "realtime",
        ObservedAt = DateTimeOffset.UtcNow,
        Before = new FileState { Type = "regular", Size = 1200, Mode = "0644", Owner = "root", Group = "root", Sha256 = new string('a', 64) },
        After = new FileState { Type = "regular", Size = 1234, Mode = "0644", Owner = "root", Group = "root", Sha256 = new string('b', 64) },
    };
    var bytes = ContractJson.ToUtf8(e);
    var sample = Fim.Core.Rules.RuleSet.Default.Evaluate(new Fim.Core.Model.FileChange(Fim.Core.Model.ChangeKind.Modified, "/x"u8.ToArray(), null, null, Fim.Core.Model.ChangedAttributeNames.Parse(e.Changed),
        Fim.Core.Model.DetectionSource.Realtime, e.ObservedAt), e, new Fim.Core.Rules.AlertContext(new Dictionary<string, string>(), null, []))!;
    Console.WriteLine($"event bytes: {bytes.Length}, alert bytes: {Fim.Manager.Pipeline.ManagerJson.Serialize(sample).Length}");
    if (Environment.GetCommandLineArgs().Contains("--show"))
    {
        Console.WriteLine(System.Text.Encoding.UTF8.GetString(Fim.Manager.Pipeline.ManagerJson.Serialize(sample)));
    }
    var validator = new Fim.Manager.Pipeline.EventValidator(256 * 1024);
    var rules = Fim.Core.Rules.RuleSet.Default;
    {
        var ev0 = validator.Validate("fim.events.agent-001", bytes).Event!;
        for (var i = 0; i < 3; i++)
        {
            var a0 = GC.GetAllocatedBytesForCurrentThread();
            var v = validator.Validate("fim.events.agent-001", bytes);
            var a1 = GC.GetAllocatedBytesForCurrentThread();
            var alert = rules.Evaluate(new Fim.Core.Model.FileChange(Fim.Core.Model.ChangeKind.Modified, System.Text.Encoding.UTF8.GetBytes(ev0.Path), null, null,
                Fim.Core.Model.ChangedAttributeNames.Parse(ev0.Changed), Fim.Core.Model.DetectionSource.Realtime, ev0.ObservedAt, ev0.Policy), ev0, new Fim.Core.Rules.AlertContext(new Dictionary<string, string>(), null, []))!;
            var a2 = GC.GetAllocatedBytesForCurrentThread();
            var json = Fim.Manager.Pipeline.ManagerJson.Serialize(alert);
            var a3 = GC.GetAllocatedBytesForCurrentThread();
            Console.WriteLine($"allocations: validate {a1 - a0} B, judge {a2 - a1} B, serialize {a3 - a2} B ({json.Length} B alert)");
        }
    }
    for (var round = 0; round < 3; round++)
    {
        var clock = Stopwatch.StartNew();
        const int N = 200_000;
        long total = 0;
        for (var i = 0; i < N; i++)
        {
            var v = validator.Validate("fim.events.agent-001", bytes);
            var ev = v.Event!;
            var change = new Fim.Core.Model.FileChange(Fim.Core.Model.ChangeKind.Modified, System.Text.Encoding.UTF8.GetBytes(ev.Path), null, null, Fim.Core.Model.ChangedAttributeNames.Parse(ev.Changed),
                Fim.Core.Model.DetectionSource.Realtime, ev.ObservedAt, ev.Policy);
            var alert = rules.Evaluate(change, ev, new Fim.Core.Rules.AlertContext(new Dictionary<string, string>(), null, []))!;
            total += Fim.Manager.Pipeline.ManagerJson.Serialize(alert).Length;
        }
        var pipelineUs = clock.Elapsed.TotalMicroseconds / N;
        var validateOnly = Stopwatch.StartNew();
        for (var i = 0; i < N; i++)
        {
            _ = validator.Validate("fim.events.agent-001", bytes);
        }
        var validateUs = validateOnly.Elapsed.TotalMicroseconds / N;
        var reflection = Stopwatch.StartNew();
        for (var i = 0; i < N; i++)
        {
            _ = System.Text.Json.JsonSerializer.Deserialize<FileEvent>(bytes, ContractJson.Default.Options);
        }
        var reflectionUs = reflection.Elapsed.TotalMicroseconds / N;
        var sg = Stopwatch.StartNew();
        for (var i = 0; i < N; i++)
        {
            _ = Fim.Manager.Pipeline.ManagerJson.DeserializeEvent(bytes);
        }
        var sgUs = sg.Elapsed.TotalMicroseconds / N;
        var alertObj = rules.Evaluate(new Fim.Core.Model.FileChange(Fim.Core.Model.ChangeKind.Modified, "/x"u8.ToArray(), null, null, Fim.Core.Model.ChangedAttributes.Size,
            Fim.Core.Model.DetectionSource.Realtime, DateTimeOffset.UtcNow), e, new Fim.Core.Rules.AlertContext(new Dictionary<string, string>(), null, []))!;
        var ser1 = Stopwatch.StartNew();
        for (var i = 0; i < N; i++)
        {
            _ = ContractJson.ToUtf8(alertObj);
        }
        var ser1Us = ser1.Elapsed.TotalMicroseconds / N;
        var ser2 = Stopwatch.StartNew();
        for (var i = 0; i < N; i++)
        {
            _ = Fim.Manager.Pipeline.ManagerJson.Serialize(alertObj);
        }
        var ser2Us = ser2.Elapsed.TotalMicroseconds / N;
        Console.WriteLine($"deserialize reflection {reflectionUs:F2} us, source-gen {sgUs:F2} us; serialize alert reflection {ser1Us:F2} us, source-gen {ser2Us:F2} us");
        Console.WriteLine($"validate+rules+serialize: {1e6 / pipelineUs:N0}/s ({pipelineUs:F2} us); validate only {validateUs:F2} us");
    }
}

static string Version()
{
    try
    {
        return ChildProcess.Run("nats-server", ["--version"]).Stdout.Trim();
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return "not found";
    }
}

static async Task PublishStockAsync(NatsJSContext js, string subject, byte[] data, string id, NatsHeaders headers, INatsJSMsg<byte[]> msg, SemaphoreSlim slots, Action done)
{
    var ack = await js.PublishAsync(subject, data, opts: new NatsJSPubOpts { MsgId = id }, headers: headers);
    ack.EnsureSuccess();
    await msg.AckAsync();
    slots.Release();
    done();
}

sealed class AckOnStored(INatsJSMsg<byte[]> msg, SemaphoreSlim slots, Action done) : IPublishCallback
{
    public void OnPublished(PublishAck ack)
    {
        _ = msg.AckAsync();
        slots.Release();
        done();
    }
}

/// <summary>Diagnostic (--alloc-types): which types the pipeline allocates, from the runtime's sampled allocation events.</summary>
sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
{
    private readonly Dictionary<string, long> _bytes = [];

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.Payload is null)
        {
            return;
        }
        var type = e.Payload[e.PayloadNames!.IndexOf("TypeName")] as string ?? "?";
        var amount = Convert.ToInt64(e.Payload[e.PayloadNames!.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
        lock (_bytes)
        {
            _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
        }
    }

    public void Print(double events)
    {
        lock (_bytes)
        {
            foreach (var (type, bytes) in _bytes.OrderByDescending(kv => kv.Value).Take(30))
            {
                Console.WriteLine($"  {bytes / events,8:F0} B/event  {type}");
            }
        }
    }
}

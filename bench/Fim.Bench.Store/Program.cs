using System.Diagnostics;
using System.Globalization;
using Fim.Contracts;
using Fim.Manager.Store;
using Fim.Testing;
using Npgsql;

// The alert store: ingest into PostgreSQL through the indexer's write path (COPY into staging + INSERT ON CONFLICT DO
// NOTHING, one transaction per 1,000) against a bare COPY of the same rows in the same run, SQLite ingest, then the
// issue's five queries over generated alerts (1,000 agents, 30 days) with p99 latency and bytes per alert on disk.
// PostgreSQL runs on this host (fsync on). Usage: Fim.Bench.Store [--ingest N] [--alerts N] [--runs N]
var ingest = Arg("--ingest", 200_000);
var total = Arg("--alerts", 2_000_000);
var runs = Arg("--runs", 200);
const int Batch = 1000;
const int Agents = 1000;
var now = DateTimeOffset.UtcNow;
var ct = CancellationToken.None;
Console.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg").Trim()}; {Environment.ProcessorCount} cores");

await using var pg = await PostgresServer.StartAsync(durable: true, "-c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=30min");
var rows = Generate(ingest, seed: 1, spreadDays: 1);

if (ingest > 0)
{
    // 1. PostgreSQL: the store's batch insert against a bare COPY of the same rows into the same schema.
    await using var ingestStore = new PostgresAlertStore(await pg.CreateDatabaseAsync("ingest_store"));
    await ingestStore.MaintainAsync(now.AddDays(-400), now, ct);
    await using var copyStore = new PostgresAlertStore(await pg.CreateDatabaseAsync("ingest_copy"));
    await copyStore.MaintainAsync(now.AddDays(-400), now, ct);
    var copyRate = await TimedAsync(() => BareCopyAsync(copyStore, rows), rows.Count);
    var storeRate = await TimedAsync(async () =>
    {
        for (var i = 0; i < rows.Count; i += Batch)
        {
            await ingestStore.InsertAsync(rows.GetRange(i, Math.Min(Batch, rows.Count - i)), ct);
        }
    }, rows.Count);
    Console.WriteLine($"postgres ingest: store {storeRate:N0}/s, bare COPY {copyRate:N0}/s, ratio {storeRate / copyRate:0.00} ({rows.Count:N0} alerts, batches of {Batch})");

    // 2. SQLite, one transaction per batch.
    var sqliteDir = Path.Combine(Path.GetTempPath(), "fim-bench-store-" + Guid.NewGuid().ToString("N")[..8]);
    await using (var sqlite = new SqliteAlertStore(Path.Combine(sqliteDir, "alerts.db")))
    {
        await sqlite.MigrateAsync(ct);
        var sqliteRate = await TimedAsync(async () =>
        {
            for (var i = 0; i < rows.Count; i += Batch)
            {
                await sqlite.InsertAsync(rows.GetRange(i, Math.Min(Batch, rows.Count - i)), ct);
            }
        }, rows.Count);
        Console.WriteLine($"sqlite ingest: {sqliteRate:N0}/s ({rows.Count:N0} alerts, batches of {Batch}, WAL, synchronous=FULL)");
    }
    Directory.Delete(sqliteDir, true);
}
rows = [];

// 3. Queries over `total` alerts: 1,000 agents, 30 days.
await using var q = new PostgresAlertStore(await pg.CreateDatabaseAsync("queries"));
await q.MaintainAsync(now.AddDays(-400), now, ct);
var load = Stopwatch.StartNew();
for (var start = 0; start < total; start += 500_000)
{
    await BareCopyAsync(q, Generate(Math.Min(500_000, total - start), seed: 100 + start, spreadDays: 30));
}
await using (var c = await q.OpenRawAsync(ct))
{
    await new NpgsqlCommand("VACUUM ANALYZE alerts", c).ExecuteNonQueryAsync();
}
Console.WriteLine($"loaded {total:N0} alerts in {load.Elapsed.TotalSeconds:0} s; load average {File.ReadAllText("/proc/loadavg").Trim()}");
long bytes;
await using (var c = await q.OpenRawAsync(ct))
{
    bytes = Convert.ToInt64(await new NpgsqlCommand(
        "SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i WHERE i.inhparent = 'alerts'::regclass", c).ExecuteScalarAsync(),
        CultureInfo.InvariantCulture);
}
Console.WriteLine($"on disk: {bytes / 1048576.0:N0} MiB, {bytes / (double)total:N0} bytes per alert (table, TOAST and 5 indexes)");

var random = new Random(7);
string AgentName() => $"agent-{random.Next(Agents):D4}";
await Report("latest 100 of one agent", () => q.SearchAsync(new AlertQuery { AgentId = AgentName(), Since = now.AddDays(-30), Until = now, Limit = 100 }, ct));
await Report("history of one path on one agent", () => q.SearchAsync(new AlertQuery
{
    AgentId = AgentName(),
    Path = Paths[random.Next(Paths.Length)],
    Since = now.AddDays(-400),
    Until = now.AddDays(1),
    OldestFirst = true,
    Limit = 100,
}, ct));
await Report("level >= 10, last 24 h (page of 100)", () => q.SearchAsync(new AlertQuery { MinLevel = 10, Since = now.AddDays(-1), Until = now, Limit = 100 }, ct));
await Report("prefix /etc/ssh/, all agents, 7 days (page of 100)", () => q.SearchAsync(new AlertQuery
{
    Path = "/etc/ssh/",
    PathMatch = PathMatch.Prefix,
    Since = now.AddDays(-7),
    Until = now,
    Limit = 100,
}, ct));
await Report("counts by level per hour, 7 days", () => q.CountAsync(new CountQuery(new AlertQuery { Since = now.AddDays(-7), Until = now }, CountKey.Level, TimeSpan.FromHours(1)), ct));
Console.WriteLine($"load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");

async Task Report<T>(string name, Func<Task<T>> query)
{
    for (var i = 0; i < 5; i++)
    {
        await query();
    }
    var times = new List<double>(runs);
    for (var i = 0; i < runs; i++)
    {
        var sw = Stopwatch.StartNew();
        await query();
        times.Add(sw.Elapsed.TotalMilliseconds);
    }
    times.Sort();
    Console.WriteLine($"{name}: p50 {times[runs / 2]:0.0} ms, p99 {times[(int)(runs * 0.99) - 1]:0.0} ms ({runs} runs)");
}

static async Task<double> TimedAsync(Func<Task> work, int count)
{
    var sw = Stopwatch.StartNew();
    await work();
    return count / sw.Elapsed.TotalSeconds;
}

static async Task BareCopyAsync(PostgresAlertStore store, List<StoredAlert> rows)
{
    await using var connection = await store.OpenRawAsync(CancellationToken.None);
    for (var i = 0; i < rows.Count; i += Batch)
    {
        await using var tx = await connection.BeginTransactionAsync();
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY alerts (observed_at, alert_id, agent_id, host, path, level, rule_id, kind, policy, actor_exe, actor_user, namespace, pod, stream_seq, stored_at, body) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in rows.GetRange(i, Math.Min(Batch, rows.Count - i)))
            {
                await PostgresAlertStore.WriteRowAsync(copy, row, CancellationToken.None);
            }
            await copy.CompleteAsync();
        }
        await tx.CommitAsync();
    }
}

List<StoredAlert> Generate(int count, int seed, int spreadDays)
{
    var r = new Random(seed);
    var list = new List<StoredAlert>(count);
    for (var i = 0; i < count; i++)
    {
        var agent = $"agent-{r.Next(Agents):D4}";
        var level = r.Next(100) switch { < 60 => 3, < 85 => 5, < 97 => 7, < 99 => 10, _ => 12 };
        var e = new FileEvent
        {
            EventId = $"{agent}:{seed}:{i}",
            AgentId = agent,
            Host = agent + ".nodes.example",
            Policy = "prod/baseline",
            Path = Paths[r.Next(Paths.Length)],
            Kind = "modified",
            Changed = ["sha256", "mtime", "size"],
            Source = "realtime",
            ObservedAt = now.AddSeconds(-r.NextDouble() * spreadDays * 86400),
        };
        var alert = Alert.For(e, new RuleRef { Id = level >= 10 ? "553" : "550", Level = level, Description = "Integrity checksum changed." }, level,
            ["pci_dss:11.5", "nist_800_53:SI.7"], ["fim"]);
        list.Add(StoredAlert.From(alert, ContractJson.ToUtf8(alert), (ulong)i + 1, alert.ObservedAt));
    }
    return list;
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

partial class Program
{
    private static readonly string[] Paths = [.. Enumerable.Range(0, 2000).Select(i => i switch
    {
        < 20 => $"/etc/ssh/ssh_host_{i}_key",
        < 200 => $"/etc/conf.d/file-{i}.conf",
        < 1000 => $"/usr/bin/tool-{i}",
        _ => $"/var/lib/app/data-{i}.db",
    })];
}

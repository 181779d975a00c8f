using System.Diagnostics;
using System.Globalization;
using Fim.Contracts;
using Fim.Manager.Options;
using Fim.Manager.Store;
using Fim.Testing;
using Npgsql;

// The alert store. 1. Ingest into PostgreSQL through the indexer's write path (InsertAsync: COPY straight into the
// table plus the rollup upserts, one transaction per batch) against a bare COPY of the same rows in the same run, and
// SQLite ingest of the same rows; --ingest-runs runs, alternating which goes first. 2. The issue's five queries over
// generated alerts (1,000 agents, 30 days), p50/p99 and bytes per alert on disk. PostgreSQL runs on this host (fsync on).
// Usage: Fim.Bench.Store [--ingest N] [--ingest-runs R] [--batch N] [--writers N] [--random-order] [--alerts N] [--runs N] [--reuse DIR] [--sqlite-alerts N] [--ingest-profile N]
//   --writers N: ingest batches dealt round-robin to N concurrent writers, store and bare COPY alike (N indexing managers).
//   --reuse DIR keeps PostgreSQL's data directory (and the SQLite file) in DIR, so generated alerts are loaded once.
//   --indexer N: N alerts through the whole indexer (IndexerRun: real nats-server and --writers fim-manager processes), after
//   the floor of any indexer on the same backlog and cores (consume-and-ack and bare COPY, alone and at once); then exits.
//   --ingest-profile N: where an ingest batch's time goes (IngestProfile; --sqlite-only: SQLite alone), then exits.
//   --console N: instead of the five queries, the web console's pages, each opened N times in chromium against a manager
//   on the --alerts database (ConsolePages); exits 1 when a page's p95 server time is over 200 ms.
var ingest = Arg("--ingest", 200_000);
var ingestRuns = Arg("--ingest-runs", 2);
// The indexer's own batch size, and two writers: the chart's smallest PostgreSQL manager pool, each manager indexing.
var batch = Arg("--batch", new StoreOptions().BatchSize);
var writers = Arg("--writers", 2);
// Ingest rows in time order, as a stream delivers them; --random-order: times random over a day (harsher on the indexes).
var randomOrder = args.Contains("--random-order");
var total = Arg("--alerts", 10_000_000);
var runs = Arg("--runs", 200);
var sqliteTotal = Arg("--sqlite-alerts", 0);
var reuse = StringArg("--reuse");
var consoleVisits = Arg("--console", 0);
var ct = CancellationToken.None;
Console.WriteLine($"load average at start: {LoadAverage()}; {Environment.ProcessorCount} cores");

// track_commit_timestamp: --indexer times the whole indexer by its first and last commit (a few bytes per commit).
const string Settings = "-c shared_buffers=1GB -c max_wal_size=8GB -c checkpoint_timeout=30min -c maintenance_work_mem=1GB -c max_parallel_maintenance_workers=2 -c track_commit_timestamp=on";
await using var pg = reuse is null
    ? await PostgresServer.StartAsync(durable: true, Settings)
    : await PostgresServer.StartKeptAsync(Path.Combine(reuse, "pg"), durable: true, Settings);

var indexer = Arg("--indexer", 0);
if (indexer > 0)
{
    // The whole indexer: real fim-manager processes (--writers of them) index a backlog from a real nats-server.
    var backlog = BenchAlerts.Generate(indexer, seed: 7, spreadDays: 1, DateTimeOffset.UtcNow).OrderBy(r => r.ObservedAtMicros).ToList();
    var floorRun = 0;
    // The floor's bare COPY: a fresh database each time, made before the clock starts.
    await IndexerRun.RunAsync(await FreshDatabaseAsync("indexer"), backlog, writers, async () =>
    {
        var floor = new PostgresAlertStore(await FreshDatabaseAsync($"indexer_floor_{++floorRun}"));
        await floor.MaintainAsync(DateTimeOffset.UtcNow.AddDays(-400), DateTimeOffset.UtcNow, ct);
        return async () =>
        {
            await using (floor)
            {
                await ConcurrentlyAsync(backlog, batch, writers, part => BareCopyAsync(floor, part));
            }
        };
    });
    return 0;
}

var profile = Arg("--ingest-profile", 0);
if (profile > 0)
{
    // Where the time goes: the --ingest rows as generated (random times over a day), then ordered by time as a stream delivers them.
    var rows = BenchAlerts.Generate(profile, seed: 1, spreadDays: 1, DateTimeOffset.UtcNow);
    List<StoredAlert> ordered = [.. rows.OrderBy(r => r.ObservedAtMicros)];
    if (!args.Contains("--sqlite-only"))
    {
        var profiler = new IngestProfile(pg, batch);
        await profiler.RunAsync(rows, "times random over a day (as --ingest)");
        await profiler.RunAsync(ordered, "ordered by time (as a stream delivers them)");
    }
    await SqliteIngestProfile.RunAsync(rows, batch, "times random over a day");
    await SqliteIngestProfile.RunAsync(ordered, batch, "ordered by time");
    Console.WriteLine($"load average at end: {LoadAverage()}");
    return 0;
}

if (ingest > 0)
{
    // Both write paths once before the first timed run: otherwise run 1's first phase (the COPY) alone pays the JIT for
    // the code both share (the row writer) and its tier-up after 30 batches, which flattered run 1's ratio.
    var now = DateTimeOffset.UtcNow;
    var warm = BenchAlerts.Generate(32 * batch, seed: 0, spreadDays: 1, now);
    await using var warmStore = new PostgresAlertStore(await FreshDatabaseAsync("ingest_warmup_store"));
    await warmStore.MaintainAsync(now.AddDays(-400), now, ct);
    await using var warmCopy = new PostgresAlertStore(await FreshDatabaseAsync("ingest_warmup_copy"));
    await warmCopy.MaintainAsync(now.AddDays(-400), now, ct);
    for (var i = 0; i < warm.Count; i += batch)
    {
        await warmStore.InsertAsync(warm.GetRange(i, batch), ct);
    }
    await BareCopyAsync(warmCopy, [.. warm.Chunk(batch).Select(c => c.ToList())]);
}

for (var run = 1; run <= ingestRuns && ingest > 0; run++)
{
    var now = DateTimeOffset.UtcNow;
    var generated = BenchAlerts.Generate(ingest, seed: run, spreadDays: 1, now);
    var rows = randomOrder ? generated : [.. generated.OrderBy(r => r.ObservedAtMicros)];
    await using var ingestStore = new PostgresAlertStore(await FreshDatabaseAsync($"ingest_store_{run}"));
    await ingestStore.MaintainAsync(now.AddDays(-400), now, ct);
    await using var copyStore = new PostgresAlertStore(await FreshDatabaseAsync($"ingest_copy_{run}"));
    await copyStore.MaintainAsync(now.AddDays(-400), now, ct);
    var loadBefore = LoadAverage();
    // Each phase starts from a checkpoint, so neither pays for writing out the pages the other one dirtied.
    async Task SettleAsync()
    {
        await using var c = await copyStore.OpenRawAsync(ct);
        await new NpgsqlCommand("CHECKPOINT", c).ExecuteNonQueryAsync(ct);
    }
    // The store's rate includes folding the rollup deltas its batches left (PostgresRollups): work owed is work done.
    async Task<double> Store()
    {
        await SettleAsync();
        return await Timing.RateAsync(async () =>
        {
            await ConcurrentlyAsync(rows, batch, writers, async part =>
            {
                foreach (var b in part)
                {
                    await ingestStore.InsertAsync(b, ct);
                }
            });
            await ingestStore.FoldRollupsAsync(ct);
        }, rows.Count);
    }
    async Task<double> Copy()
    {
        await SettleAsync();
        return await Timing.RateAsync(() => ConcurrentlyAsync(rows, batch, writers, part => BareCopyAsync(copyStore, part)), rows.Count);
    }
    double storeRate, copyRate;
    if (run % 2 == 1)
    {
        copyRate = await Copy();
        storeRate = await Store();
    }
    else
    {
        storeRate = await Store();
        copyRate = await Copy();
    }
    Console.WriteLine($"run {run} postgres ingest: store {storeRate:N0}/s, bare COPY {copyRate:N0}/s, ratio {storeRate / copyRate:0.00} "
        + $"({rows.Count:N0} alerts, batches of {batch}, {(run % 2 == 1 ? "COPY first" : "store first")}, {writers} writer(s) each; load average {loadBefore} -> {LoadAverage()})");

    var sqliteDir = Path.Combine(reuse ?? Path.GetTempPath(), "fim-bench-store-ingest-" + Guid.NewGuid().ToString("N")[..8]);
    await using (var sqlite = new SqliteAlertStore(Path.Combine(sqliteDir, "alerts.db")))
    {
        await sqlite.MigrateAsync(ct);
        var sqliteRate = await Timing.RateAsync(async () =>
        {
            for (var i = 0; i < rows.Count; i += batch)
            {
                await sqlite.InsertAsync(rows.GetRange(i, Math.Min(batch, rows.Count - i)), ct);
            }
        }, rows.Count);
        Console.WriteLine($"run {run} sqlite ingest: {sqliteRate:N0}/s ({rows.Count:N0} alerts, batches of {batch}, WAL, synchronous=FULL; load average {LoadAverage()})");
    }
    Directory.Delete(sqliteDir, true);
}

if (total > 0)
{
    // 2. Queries over `total` alerts. Loaded with COPY and the indexes built afterwards (the load is not what is measured).
    var database = $"queries_{total}";
    var (q, now) = await QueryDatabaseAsync(database);
    await using (q)
    {
        long bytes, rollupBytes;
        await using (var c = await q.OpenRawAsync(ct))
        {
            bytes = Convert.ToInt64(await new NpgsqlCommand(
                "SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i WHERE i.inhparent = 'alerts'::regclass", c).ExecuteScalarAsync(),
                CultureInfo.InvariantCulture);
            rollupBytes = Convert.ToInt64(await new NpgsqlCommand(
                "SELECT pg_total_relation_size('alert_counts') + pg_total_relation_size('alert_counts_fleet')", c).ExecuteScalarAsync(),
                CultureInfo.InvariantCulture);
        }
        Console.WriteLine($"postgres on disk: {bytes / 1048576.0:N0} MiB, {bytes / (double)total:N0} bytes per alert (table, TOAST, key and 6 indexes); "
            + $"rollups {rollupBytes / 1048576.0:N0} MiB, {rollupBytes / (double)total:N1} bytes per alert");
        if (consoleVisits > 0)
        {
            var met = await new ConsolePages(pg.ConnectionString(database), now, consoleVisits).RunAsync();
            Console.WriteLine($"load average at end: {LoadAverage()}");
            return met ? 0 : 1;
        }
        await RunQueriesAsync("postgres", q, now);
    }
}

if (sqliteTotal > 0)
{
    var dir = Path.Combine(reuse ?? Path.GetTempPath(), $"sqlite-{sqliteTotal}");
    var file = Path.Combine(dir, "alerts.db");
    var marker = Path.Combine(dir, "generated-at");
    var fresh = !File.Exists(marker);
    var now = fresh ? DateTimeOffset.UtcNow : DateTimeOffset.Parse(File.ReadAllText(marker), CultureInfo.InvariantCulture);
    await using var sqlite = new SqliteAlertStore(file);
    if (fresh)
    {
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, true);
        }
        var load = Stopwatch.StartNew();
        for (var start = 0; start < sqliteTotal; start += 500_000)
        {
            var chunk = BenchAlerts.Generate(Math.Min(500_000, sqliteTotal - start), seed: 100 + start, spreadDays: 30, now);
            for (var i = 0; i < chunk.Count; i += 10_000)
            {
                await sqlite.InsertAsync(chunk.GetRange(i, Math.Min(10_000, chunk.Count - i)), ct);
            }
        }
        Console.WriteLine($"sqlite: loaded {sqliteTotal:N0} alerts through the store in {load.Elapsed.TotalSeconds:0} s ({sqliteTotal / load.Elapsed.TotalSeconds:N0}/s, batches of 10,000); load average {LoadAverage()}");
        File.WriteAllText(marker, now.ToString("O", CultureInfo.InvariantCulture));
    }
    await using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file}"))
    {
        // The WAL folded into the file first, so the size is the data's, not a checkpoint's timing.
        await c.OpenAsync();
        await new Microsoft.Data.Sqlite.SqliteCommand("PRAGMA wal_checkpoint(TRUNCATE)", c).ExecuteNonQueryAsync();
    }
    var size = new DirectoryInfo(dir).GetFiles("alerts.db*").Sum(f => f.Length);
    Console.WriteLine($"sqlite on disk: {size / 1048576.0:N0} MiB, {size / (double)sqliteTotal:N0} bytes per alert (with the rollups)");
    await RunQueriesAsync("sqlite", sqlite, now);
}
Console.WriteLine($"load average at end: {LoadAverage()}");
return 0;

async Task<(PostgresAlertStore Store, DateTimeOffset Now)> QueryDatabaseAsync(string name)
{
    await using (var admin = new NpgsqlConnection(pg.ConnectionString("postgres")))
    {
        await admin.OpenAsync();
        var exists = await new NpgsqlCommand($"SELECT count(*) FROM pg_database WHERE datname = '{name}'", admin).ExecuteScalarAsync() is long n && n > 0;
        if (exists)
        {
            var store = new PostgresAlertStore(pg.ConnectionString(name));
            await using var c = await store.OpenRawAsync(ct);
            var at = await new NpgsqlCommand("SELECT generated_at FROM bench_meta", c).ExecuteScalarAsync();
            if (at is DateTime generatedAt)
            {
                Console.WriteLine($"reusing {name}: {total:N0} alerts generated at {generatedAt:O}");
                return (store, new DateTimeOffset(DateTime.SpecifyKind(generatedAt, DateTimeKind.Utc)));
            }
            await store.DisposeAsync();
            await new NpgsqlCommand($"DROP DATABASE {name}", admin).ExecuteNonQueryAsync();
        }
    }
    var now = DateTimeOffset.UtcNow;
    var q = new PostgresAlertStore(await pg.CreateDatabaseAsync(name));
    await q.MaintainAsync(now.AddDays(-400), now, ct);
    var load = Stopwatch.StartNew();
    List<string> rebuild = [];
    await using (var c = await q.OpenRawAsync(ct))
    {
        // Drop the key and the indexes, COPY, then build them again by sort: minutes instead of an hour of random inserts.
        await using (var r = await new NpgsqlCommand(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'alerts' AND indexname <> 'alerts_pkey'", c).ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                // A partitioned table's index reads "ON ONLY alerts" (the parent alone); built again on every partition.
                rebuild.Add(r.GetString(1).Replace(" ON ONLY ", " ON ", StringComparison.Ordinal));
            }
        }
        await new NpgsqlCommand(string.Concat(rebuild.Select(d => $"DROP INDEX {d.Split(' ')[2]};")) + "ALTER TABLE alerts DROP CONSTRAINT alerts_pkey", c).ExecuteNonQueryAsync();
    }
    // The next chunk is generated while this one is copied (the two cores share the work).
    const int Chunk = 500_000;
    var next = Task.Run(() => BenchAlerts.Generate(Math.Min(Chunk, total), seed: 100, spreadDays: 30, now));
    for (var start = 0; start < total; start += Chunk)
    {
        var chunk = await next;
        var following = start + Chunk;
        if (following < total)
        {
            next = Task.Run(() => BenchAlerts.Generate(Math.Min(Chunk, total - following), seed: 100 + following, spreadDays: 30, now));
        }
        await BareCopyAsync(q, [.. chunk.Chunk(50_000).Select(c => c.ToList())]);
    }
    Console.WriteLine($"postgres: copied {total:N0} alerts in {load.Elapsed.TotalSeconds:0} s; load average {LoadAverage()}");
    await using (var c = await q.OpenRawAsync(ct))
    {
        foreach (var sql in (string[])["ALTER TABLE alerts ADD PRIMARY KEY (alert_id, observed_at)", .. rebuild])
        {
            await new NpgsqlCommand(sql, c) { CommandTimeout = 0 }.ExecuteNonQueryAsync();
        }
    }
    await q.RebuildRollupsAsync(ct);
    await using (var c = await q.OpenRawAsync(ct))
    {
        await new NpgsqlCommand("VACUUM ANALYZE", c) { CommandTimeout = 0 }.ExecuteNonQueryAsync();
        await new NpgsqlCommand("CREATE TABLE bench_meta (generated_at timestamptz NOT NULL)", c).ExecuteNonQueryAsync();
        await using var meta = new NpgsqlCommand("INSERT INTO bench_meta VALUES (@t)", c);
        meta.Parameters.AddWithValue("t", now.UtcDateTime);
        await meta.ExecuteNonQueryAsync();
    }
    Console.WriteLine($"postgres: loaded {total:N0} alerts, key, indexes and rollups in {load.Elapsed.TotalSeconds:0} s; load average {LoadAverage()}");
    return (q, now);
}

async Task<string> FreshDatabaseAsync(string name)
{
    await using (var admin = new NpgsqlConnection(pg.ConnectionString("postgres")))
    {
        await admin.OpenAsync();
        await new NpgsqlCommand($"DROP DATABASE IF EXISTS {name}", admin).ExecuteNonQueryAsync();
    }
    return await pg.CreateDatabaseAsync(name);
}

async Task RunQueriesAsync(string backend, IAlertStore q, DateTimeOffset now)
{
    Console.WriteLine($"{backend} queries (now = {now:O}), load average {LoadAverage()}");
    var random = new Random(7);
    string AgentName() => $"agent-{random.Next(BenchAlerts.Agents):D4}";
    await Report("latest 100 of one agent", () => q.SearchAsync(new AlertQuery { AgentId = AgentName(), Since = now.AddDays(-30), Until = now, Limit = 100 }, ct));
    await Report("history of one path on one agent", () => q.SearchAsync(new AlertQuery
    {
        AgentId = AgentName(),
        Path = BenchAlerts.Paths[random.Next(BenchAlerts.Paths.Length)],
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
    await Report("counts by level per hour, 7 days, one agent", () => q.CountAsync(new CountQuery(new AlertQuery { AgentId = AgentName(), Since = now.AddDays(-7), Until = now }, CountKey.Level, TimeSpan.FromHours(1)), ct));
}

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
    Console.WriteLine($"  {name}: p50 {times[runs / 2]:0.0} ms, p99 {times[(int)Math.Ceiling(runs * 0.99) - 1]:0.0} ms ({runs} runs)");
}

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]);

// The batches dealt round-robin to `writers` concurrent writers, as an indexer with that many writers (or that many
// indexing managers) would write them.
static Task ConcurrentlyAsync(List<StoredAlert> rows, int batch, int writers, Func<List<List<StoredAlert>>, Task> write)
{
    var batches = rows.Chunk(batch).Select(c => c.ToList()).ToList();
    return Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => write([.. batches.Where((_, i) => i % writers == w)]))));
}

static async Task BareCopyAsync(PostgresAlertStore store, List<List<StoredAlert>> batches)
{
    await using var connection = await store.OpenRawAsync(CancellationToken.None);
    foreach (var part in batches)
    {
        await using var tx = await connection.BeginTransactionAsync();
        await using (var copy = await connection.BeginBinaryImportAsync(
            $"COPY alerts ({PostgresAlertStore.Columns}) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in part)
            {
                await PostgresAlertStore.WriteRowAsync(copy, row, CancellationToken.None);
            }
            await copy.CompleteAsync();
        }
        await tx.CommitAsync();
    }
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

string? StringArg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

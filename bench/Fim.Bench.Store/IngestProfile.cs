using System.Diagnostics;
using System.Globalization;
using Fim.Manager.Store;
using Fim.Testing;
using Npgsql;

/// <summary>
/// Where an ingest batch's time goes (--ingest-profile): the same rows, in the same batches, into fresh databases
/// that differ in one thing each: no key and no index, the key alone, the key and one index, everything (the bench's
/// bare COPY), the commit's WAL flush skipped (a diagnostic only, never a setting), the rollup deltas alone, COPY plus
/// the rollup deltas, and the store (its folds every 5 s included). Besides the rate (which a loaded machine bends),
/// each line gives what load does not bend much: CPU microseconds per alert of this process (the client) and of every
/// PostgreSQL process, and WAL bytes per alert.
/// </summary>
internal sealed class IngestProfile(PostgresServer pg, int batch)
{
    private static readonly string[] Indexes = ["alerts_time", "alerts_agent_time", "alerts_agent_path_time", "alerts_path_time_id", "alerts_level_time_id", "alerts_source_time_id"];
    private int _databases;

    private bool _warm;

    public async Task RunAsync(List<StoredAlert> rows, string order)
    {
        if (!_warm)
        {
            // The JIT's first compilations and tier-ups (after 30 calls of a per-batch method) out of the figures.
            _warm = true;
            var quiet = Console.Out;
            Console.SetOut(TextWriter.Null);
            await RunAsync(rows.GetRange(0, Math.Min(rows.Count, 10 * batch)), "warm-up");
            Console.SetOut(quiet);
        }
        Console.WriteLine($"profile: {rows.Count:N0} alerts, batches of {batch}, {order}");
        await CopyAsync(rows, "COPY, no key, no index", keep: []);
        await CopyAsync(rows, "COPY, key only", keep: ["alerts_pkey"]);
        foreach (var index in Indexes)
        {
            await CopyAsync(rows, $"COPY, key + {index}", keep: ["alerts_pkey", index]);
        }
        await CopyAsync(rows, "COPY, key + 6 indexes (the bench's bare COPY)", keep: null);
        await CopyAsync(rows, "COPY, key + 6 indexes, each batch in alert id order (as the store writes it)", keep: null, sorted: true);
        await CopyAsync(rows, "COPY, key + 6 indexes, synchronous_commit=off (diagnostic)", keep: null, session: "SET synchronous_commit = off");
        await CopyAsync(rows, "rollup delta rows alone (no COPY, no fold)", keep: null, copy: false, rollups: true);
        await CopyAsync(rows, "COPY + rollup delta rows, one connection", keep: null, rollups: true);
        var store = new PostgresAlertStore(await FreshAsync());
        await using (store)
        {
            await MaintainAsync(store);
            await MeasureAsync("store.InsertAsync (the indexer's write)", rows.Count, async () =>
            {
                for (var i = 0; i < rows.Count; i += batch)
                {
                    await store.InsertAsync(rows.GetRange(i, Math.Min(batch, rows.Count - i)), CancellationToken.None);
                }
            });
        }
    }

    private async Task CopyAsync(List<StoredAlert> rows, string name, string[]? keep, string? session = null, bool copy = true, bool rollups = false, bool sorted = false)
    {
        var connectionString = await FreshAsync();
        await using (var store = new PostgresAlertStore(connectionString))
        {
            await MaintainAsync(store);
        }
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        if (keep is not null)
        {
            foreach (var index in Indexes.Where(i => !keep.Contains(i)))
            {
                await new NpgsqlCommand($"DROP INDEX {index}", connection).ExecuteNonQueryAsync();
            }
            if (!keep.Contains("alerts_pkey"))
            {
                await new NpgsqlCommand("ALTER TABLE alerts DROP CONSTRAINT alerts_pkey", connection).ExecuteNonQueryAsync();
            }
        }
        if (session is not null)
        {
            await new NpgsqlCommand(session, connection).ExecuteNonQueryAsync();
        }
        await MeasureAsync(name, rows.Count, async () =>
        {
            for (var i = 0; i < rows.Count; i += batch)
            {
                var part = rows.GetRange(i, Math.Min(batch, rows.Count - i));
                if (sorted)
                {
                    part.Sort((x, y) => string.CompareOrdinal(x.AlertId, y.AlertId));
                }
                await using var tx = await connection.BeginTransactionAsync();
                if (copy)
                {
                    await using var importer = await connection.BeginBinaryImportAsync($"COPY alerts ({PostgresAlertStore.Columns}) FROM STDIN (FORMAT BINARY)");
                    foreach (var row in part)
                    {
                        await PostgresAlertStore.WriteRowAsync(importer, row, CancellationToken.None);
                    }
                    await importer.CompleteAsync();
                }
                if (rollups)
                {
                    await PostgresRollups.AddAsync(connection, tx, part, CancellationToken.None);
                }
                await tx.CommitAsync();
            }
        });
    }

    /// <summary>Migrations and this month's partitions, as the bench's ingest databases have them.</summary>
    private static Task MaintainAsync(PostgresAlertStore store)
    {
        var now = DateTimeOffset.UtcNow;
        return store.MaintainAsync(now.AddDays(-400), now, CancellationToken.None);
    }

    private async Task<string> FreshAsync()
    {
        var name = $"profile_{Environment.ProcessId}_{_databases++}";
        return await pg.CreateDatabaseAsync(name);
    }

    private async Task MeasureAsync(string name, int count, Func<Task> work)
    {
        await using var probe = new NpgsqlConnection(pg.ConnectionString("postgres"));
        await probe.OpenAsync();
        var walBefore = (string)(await new NpgsqlCommand("SELECT pg_current_wal_lsn()::text", probe).ExecuteScalarAsync())!;
        var serverBefore = ServerCpu();
        var self = Process.GetCurrentProcess();
        var clientBefore = self.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        await work();
        wall.Stop();
        self.Refresh();
        var client = self.TotalProcessorTime - clientBefore;
        var server = ServerCpu() - serverBefore;
        var wal = Convert.ToInt64(await new NpgsqlCommand($"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{walBefore}')", probe).ExecuteScalarAsync(),
            CultureInfo.InvariantCulture);
        Console.WriteLine($"  {name}: {count / wall.Elapsed.TotalSeconds:N0}/s; per alert: wall {wall.Elapsed.TotalMicroseconds / count:0.0} us, "
            + $"client CPU {client.TotalMicroseconds / count:0.0} us, PostgreSQL CPU {server.TotalMicroseconds / count:0.0} us, WAL {wal / (double)count:N0} B");
    }

    /// <summary>CPU time of the postmaster and its children (backends, WAL writer, checkpointer) so far, from /proc.</summary>
    private TimeSpan ServerCpu()
    {
        var postmaster = File.ReadLines(Path.Combine(pg.DataDirectory, "postmaster.pid")).First().Trim();
        long ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            // Fields after the command (which may hold spaces): state, ppid, ... utime and stime are the 14th and 15th fields.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var pid = Path.GetFileName(dir);
            if (pid == postmaster || fields[1] == postmaster)
            {
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
        }
        return TimeSpan.FromSeconds(ticks / 100.0);
    }
}

/// <summary>
/// The SQLite side of --ingest-profile: the store's write with the CPU microseconds and the bytes written to disk per
/// alert (the store runs in this process, so /proc/self/io counts its WAL appends and checkpoints).
/// </summary>
internal static class SqliteIngestProfile
{
    public static async Task RunAsync(List<StoredAlert> rows, int batch, string order)
    {
        var dir = Path.Combine(Path.GetTempPath(), "fim-bench-store-profile-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await using var store = new SqliteAlertStore(Path.Combine(dir, "alerts.db"));
            await store.MigrateAsync(CancellationToken.None);
            var self = Process.GetCurrentProcess();
            var cpuBefore = self.TotalProcessorTime;
            var writtenBefore = WrittenBytes();
            var wall = Stopwatch.StartNew();
            for (var i = 0; i < rows.Count; i += batch)
            {
                await store.InsertAsync(rows.GetRange(i, Math.Min(batch, rows.Count - i)), CancellationToken.None);
            }
            wall.Stop();
            self.Refresh();
            var cpu = self.TotalProcessorTime - cpuBefore;
            var written = WrittenBytes() - writtenBefore;
            var files = new DirectoryInfo(dir).GetFiles("alerts.db*").Sum(f => f.Length);
            Console.WriteLine($"  sqlite store.InsertAsync, {order}: {rows.Count / wall.Elapsed.TotalSeconds:N0}/s; per alert: wall {wall.Elapsed.TotalMicroseconds / rows.Count:0.0} us, "
                + $"CPU {cpu.TotalMicroseconds / rows.Count:0.0} us, written to disk {written / (double)rows.Count:N0} B (files now {files / (double)rows.Count:N0} B per alert)");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static long WrittenBytes() =>
        long.Parse(File.ReadLines("/proc/self/io").First(l => l.StartsWith("write_bytes:", StringComparison.Ordinal))["write_bytes:".Length..].Trim(), CultureInfo.InvariantCulture);
}

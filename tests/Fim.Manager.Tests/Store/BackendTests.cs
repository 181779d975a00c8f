using Fim.Manager.Store;
using Fim.Testing;
using Npgsql;
using static Fim.Manager.Tests.Store.StoreTestAlerts;

namespace Fim.Manager.Tests.Store;

public sealed class SqliteStoreFixture : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "fim-store-" + Guid.NewGuid().ToString("N")[..10]);
    public string File => Path.Combine(Directory, "alerts.db");
    public IAlertStore Store { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Store = new SqliteAlertStore(File);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

public sealed class SqliteAlertStoreTests(SqliteStoreFixture f) : AlertStoreContract, IClassFixture<SqliteStoreFixture>
{
    protected override IAlertStore Store => f.Store;

    protected override Task<IAlertStore> OpenAgainAsync() => Task.FromResult<IAlertStore>(new SqliteAlertStore(f.File));

    protected override Task<(IAlertStore Store, Func<string, Task> Sql, Func<IAlertStore> Reopen)> OpenFreshAsync()
    {
        var file = Path.Combine(f.Directory, $"fresh-{Guid.NewGuid():N}.db");
        async Task Sql(string sql)
        {
            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file}");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }
        return Task.FromResult<(IAlertStore, Func<string, Task>, Func<IAlertStore>)>((new SqliteAlertStore(file), Sql, () => new SqliteAlertStore(file)));
    }

    [Fact]
    public async Task The_file_is_in_WAL_mode()
    {
        await Store.MigrateAsync(CancellationToken.None);
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={f.File}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string)(await command.ExecuteScalarAsync())!);
    }
}

/// <summary>A real PostgreSQL 15 server for one test class, with its own database.</summary>
public sealed class PostgresStoreFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";
    public IAlertStore Store { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await PostgresServer.StartAsync();
        ConnectionString = await Server.CreateDatabaseAsync("contract");
        Store = new PostgresAlertStore(ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        await Server.DisposeAsync();
    }
}

public sealed class PostgresAlertStoreTests(PostgresStoreFixture f) : AlertStoreContract, IClassFixture<PostgresStoreFixture>
{
    protected override IAlertStore Store => f.Store;

    protected override int[] SchemaVersions => [.. base.SchemaVersions, 8];

    protected override Task<IAlertStore> OpenAgainAsync() => Task.FromResult<IAlertStore>(new PostgresAlertStore(f.ConnectionString));

    protected override async Task<(IAlertStore Store, Func<string, Task> Sql, Func<IAlertStore> Reopen)> OpenFreshAsync()
    {
        var connectionString = await f.Server.CreateDatabaseAsync("fresh_" + Guid.NewGuid().ToString("N")[..8]);
        async Task Sql(string sql)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
        return (new PostgresAlertStore(connectionString), Sql, () => new PostgresAlertStore(connectionString));
    }

    [Fact]
    public async Task Rollup_deltas_of_concurrent_writers_fold_exactly_once_and_counts_read_the_same_before_and_after()
    {
        var connectionString = await f.Server.CreateDatabaseAsync("deltas_" + Guid.NewGuid().ToString("N")[..8]);
        var now = new DateTimeOffset(2041, 3, 10, 12, 30, 0, TimeSpan.Zero);
        var r = new Random(8);
        var alerts = Enumerable.Range(0, 2400).Select(i => Stored(Alert($"delta-{i % 40}", $"/d/{i % 9}", now.AddMinutes(-r.Next(0, 72 * 60)),
            level: 3 + (i % 5) * 2, rule: i % 2 == 0 ? "550" : "554", ns: (i % 3) switch { 0 => null, 1 => "payments", _ => "web" }))).ToList();
        // Folds only when the test asks, so what is left unfolded does not depend on how fast the machine is.
        var managers = Enumerable.Range(0, 3).Select(_ => new PostgresAlertStore(connectionString, foldInterval: TimeSpan.MaxValue)).ToArray();
        try
        {
            await managers[0].MigrateAsync(CancellationToken.None);
            // Three managers write overlapping batches (each alert reaches two of them) while two of them fold.
            var writes = managers.Select((m, w) => Task.Run(async () =>
            {
                for (var b = 0; b < 24; b++)
                {
                    var from = (b * 100 + w * 800) % 2300;
                    await m.InsertAsync(alerts[from..Math.Min(from + 100, 2300)], CancellationToken.None);
                    if (w < 2 && b % 6 == 5)
                    {
                        await m.FoldRollupsAsync(CancellationToken.None);
                    }
                }
            }));
            await Task.WhenAll(writes);
            Assert.Equal(100, await managers[2].InsertAsync(alerts[2300..], CancellationToken.None));
            var (stored, _) = await managers[0].TallyAsync(CancellationToken.None);
            Assert.Equal(2400, stored);

            var byHour = new CountQuery(new AlertQuery { Since = now.AddDays(-4), Until = now.AddHours(1) }, CountKey.Level, TimeSpan.FromHours(1));
            var byAgent = byHour with { Key = CountKey.Agent, Bucket = TimeSpan.FromHours(24) };
            var raw = await managers[0].CountAsync(byHour with { Filter = byHour.Filter with { Path = "/", PathMatch = PathMatch.Prefix } }, CancellationToken.None);
            var rawByAgent = await managers[0].CountAsync(byAgent with { Filter = byAgent.Filter with { Path = "/", PathMatch = PathMatch.Prefix } }, CancellationToken.None);
            Assert.Equal(2400, raw.Sum(c => c.Count));
            Assert.Equal(raw, await managers[1].CountAsync(byHour, CancellationToken.None));
            Assert.Equal(rawByAgent, await managers[1].CountAsync(byAgent, CancellationToken.None));
            var pending = await ScalarAsync(connectionString, "SELECT count(*) FROM alert_count_deltas");
            Assert.True(pending > 0, "the last batches' deltas are not folded yet, so the counts above read them");

            // Two folds at once: every delta goes into the rollups once, and the counts do not move.
            var folded = await Task.WhenAll(managers[0].FoldRollupsAsync(CancellationToken.None), managers[1].FoldRollupsAsync(CancellationToken.None));
            Assert.Equal(pending, folded.Sum());
            Assert.Equal(0, await ScalarAsync(connectionString, "SELECT count(*) FROM alert_count_deltas"));
            Assert.Equal(2400, await ScalarAsync(connectionString, "SELECT sum(n) FROM alert_counts"));
            Assert.Equal(2400, await ScalarAsync(connectionString, "SELECT sum(n) FROM alert_counts_fleet"));
            Assert.Equal(raw, await managers[2].CountAsync(byHour, CancellationToken.None));
            Assert.Equal(rawByAgent, await managers[2].CountAsync(byAgent, CancellationToken.None));
        }
        finally
        {
            foreach (var m in managers)
            {
                await m.DisposeAsync();
            }
        }
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<List<string>> PartitionsAsync()
    {
        await using var connection = new NpgsqlConnection(f.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'alerts'::regclass ORDER BY 1", connection);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }
        return names;
    }

    [Fact]
    public async Task Partitions_are_made_ahead_old_ones_dropped_whole_and_rows_from_the_default_partition_move_into_new_ones()
    {
        var agent = Agent("part");
        var now = new DateTimeOffset(2031, 6, 15, 12, 0, 0, TimeSpan.Zero);
        // Far ahead of any partition yet: lands in the default partition.
        await Store.InsertAsync([Stored(agent, "/p/future", now.AddDays(40)), Stored(agent, "/p/now", now)], CancellationToken.None);
        await Store.MaintainAsync(now.AddDays(-400), now, CancellationToken.None);
        var partitions = await PartitionsAsync();
        Assert.Contains("alerts_p203106", partitions);
        Assert.Contains("alerts_p203108", partitions);
        Assert.DoesNotContain("alerts_p203109", partitions);
        Assert.Contains(PostgresAlertStore.PartitionName(now.AddDays(-400)), partitions);

        await using (var connection = new NpgsqlConnection(f.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT tableoid::regclass::text FROM alerts WHERE agent_id = @a AND path = '/p/future'", connection);
            command.Parameters.AddWithValue("a", agent);
            Assert.Equal("alerts_p203107", (string)(await command.ExecuteScalarAsync())!);
        }

        // A year and a half later: the 2031 partitions are past retention and dropped whole.
        var later = now.AddDays(560);
        await Store.MaintainAsync(later.AddDays(-400), later, CancellationToken.None);
        partitions = await PartitionsAsync();
        Assert.DoesNotContain("alerts_p203106", partitions);
        Assert.DoesNotContain("alerts_p203107", partitions);
        Assert.Contains(PostgresAlertStore.PartitionName(later), partitions);
        var left = await Store.SearchAsync(new AlertQuery { AgentId = agent }, CancellationToken.None);
        Assert.Empty(left.Rows);
    }
}

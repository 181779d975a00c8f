using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Fim.Manager.Store;

/// <summary>
/// The embedded store: one SQLite file in WAL mode (readers never wait for the writer), synchronous=FULL so a batch
/// acked to JetStream survives a power cut, times as integer microseconds, path matching with GLOB (case-sensitive).
/// A batch is one transaction of prepared row inserts plus the rollup upserts for the rows that were new.
/// Retention deletes by time in batches, each with its rollup decrement. One writer: the manager that holds the indexer lock (<see cref="SqliteIndexerLock"/>).
/// </summary>
public sealed class SqliteAlertStore : SqlAlertStore
{
    private const int DeleteBatch = 5000;
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writer = new(1, 1);

    private readonly string _directory;

    public SqliteAlertStore(string path)
    {
        // Created on first use, not here: a read-only directory fails the store's calls (and says why), not the manager's start.
        _directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
    }

    public override string Backend => "sqlite";

    /// <summary>Fills the (empty) rollups from the stored alerts: migration 5, and <see cref="RebuildRollupsAsync"/>.</summary>
    private static readonly string[] FillRollups =
    [
        """
        INSERT INTO alert_counts (hour, level, rule_id, agent_id, namespace, n)
        SELECT observed_at / 3600000000, level, rule_id, agent_id, COALESCE(namespace, ''), count(*) FROM alerts
        WHERE observed_at >= 0 GROUP BY 1, 2, 3, 4, 5
        """,
        """
        INSERT INTO alert_counts_fleet (hour, level, rule_id, namespace, n)
        SELECT hour, level, rule_id, namespace, sum(n) FROM alert_counts GROUP BY 1, 2, 3, 4
        """,
    ];

    protected override IReadOnlyList<StoreMigration> Migrations { get; } =
    [
        new(1, "alerts", [
            """
            CREATE TABLE alerts (
                observed_at INTEGER NOT NULL,
                alert_id TEXT NOT NULL UNIQUE,
                agent_id TEXT NOT NULL,
                host TEXT NOT NULL,
                path TEXT NOT NULL,
                level INTEGER NOT NULL,
                rule_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                policy TEXT,
                actor_exe TEXT,
                actor_user TEXT,
                namespace TEXT,
                pod TEXT,
                stream_seq INTEGER NOT NULL,
                stored_at INTEGER NOT NULL,
                body BLOB NOT NULL)
            """,
            "CREATE INDEX alerts_time ON alerts (observed_at, alert_id)",
            "CREATE INDEX alerts_agent_time ON alerts (agent_id, observed_at, alert_id)",
            "CREATE INDEX alerts_agent_path_time ON alerts (agent_id, path, observed_at)",
            "CREATE INDEX alerts_path_time ON alerts (path, observed_at)",
            "CREATE INDEX alerts_level_time ON alerts (level, observed_at)",
        ]),
        new(2, "alert reviews", [
            // Apart from the alerts so stored alerts stay append-only and a review is one upsert.
            """
            CREATE TABLE alert_reviews (
                alert_id TEXT PRIMARY KEY,
                state TEXT NOT NULL CHECK (state IN ('new', 'expected', 'incident', 'false_positive')),
                reviewer TEXT NOT NULL,
                reviewed_at INTEGER NOT NULL,
                comment TEXT)
            """,
            "CREATE INDEX alert_reviews_state ON alert_reviews (state)",
        ]),
        new(AuditSchema.Version, AuditSchema.Description, AuditSchema.Sqlite),
        new(ScanSchema.Version, ScanSchema.Description, ScanSchema.Sqlite),
        new(5, "hourly alert count rollups; covering path and level indexes", [
            // Kept by the insert and the retention delete in their own transactions (CountRollup); filled here from what is stored.
            """
            CREATE TABLE alert_counts (
                hour INTEGER NOT NULL,
                level INTEGER NOT NULL,
                rule_id TEXT NOT NULL,
                agent_id TEXT NOT NULL,
                namespace TEXT NOT NULL,
                n INTEGER NOT NULL,
                PRIMARY KEY (hour, level, rule_id, agent_id, namespace)) WITHOUT ROWID
            """,
            "CREATE INDEX alert_counts_agent ON alert_counts (agent_id, hour)",
            """
            CREATE TABLE alert_counts_fleet (
                hour INTEGER NOT NULL,
                level INTEGER NOT NULL,
                rule_id TEXT NOT NULL,
                namespace TEXT NOT NULL,
                n INTEGER NOT NULL,
                PRIMARY KEY (hour, level, rule_id, namespace)) WITHOUT ROWID
            """,
            .. FillRollups,
            // alert_id at the end of the path and level indexes: a search reads its page's keys from the index alone, then
            // fetches only those rows (SqlAlertStore.SearchAsync), instead of every matching row's heap tuple before the sort.
            "DROP INDEX alerts_path_time",
            "CREATE INDEX alerts_path_time_id ON alerts (path, observed_at, alert_id)",
            "DROP INDEX alerts_level_time",
            "CREATE INDEX alerts_level_time_id ON alerts (level, observed_at, alert_id)",
        ]),
        new(6, "agent labels and package of each alert (selector, package and package_update filters)", [
            "ALTER TABLE alerts ADD COLUMN labels TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE alerts ADD COLUMN package TEXT",
            "ALTER TABLE alerts ADD COLUMN package_verified INTEGER",
            // Older rows from their stored JSON, encoded as StoredLabels does; only rows that mention either are rewritten.
            """
            UPDATE alerts SET
                labels = COALESCE((SELECT char(10) || group_concat(
                        replace(replace(replace(key, '%', '%25'), '=', '%3D'), char(10), '%0A') || '='
                        || replace(replace(replace(value, '%', '%25'), '=', '%3D'), char(10), '%0A'), char(10)) || char(10)
                    FROM (SELECT key, value FROM json_each(CAST(body AS TEXT), '$.labels') ORDER BY key)), ''),
                package = json_extract(CAST(body AS TEXT), '$.package.name'),
                package_verified = json_extract(CAST(body AS TEXT), '$.package.verified')
            WHERE instr(body, CAST('"labels"' AS BLOB)) > 0 OR instr(body, CAST('"package"' AS BLOB)) > 0
            """,
        ]),
        new(7, "where each alert's event came from (source filter: scan, realtime, falco, prowler, json)", [
            "ALTER TABLE alerts ADD COLUMN source TEXT NOT NULL DEFAULT ''",
            "UPDATE alerts SET source = COALESCE(json_extract(CAST(body AS TEXT), '$.source'), '')",
            "CREATE INDEX alerts_source_time_id ON alerts (source, observed_at, alert_id)",
        ]),
    ];

    protected override string CreateVersionTable =>
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)";

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_directory);
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // synchronous=FULL: with WAL, NORMAL skips the fsync at each commit and a power cut can take the last commits,
        // which the indexer has already acked. A bigger page cache keeps the B-trees' upper pages in memory across
        // batches. A batch of 1,000 alerts dirties a page of every index per alert (their keys are random: agent, path,
        // alert id), about 20 KB of WAL per alert; a checkpoint every 4,096 pages (16 MB) wrote nearly all of it back
        // again after every batch, and 65,536 pages (256 MB) let a hot page be written back once per dozen batches:
        // 39 -> 24 KB written and 93 -> 70 us of CPU per alert in the ingest profile (store.md). journal_size_limit
        // truncates a WAL that a long reader made outgrow that when it is next reset.
        await ExecuteAsync(connection, null,
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000; PRAGMA cache_size=-65536; "
            + "PRAGMA wal_autocheckpoint=65536; PRAGMA journal_size_limit=268435456; PRAGMA temp_store=MEMORY;",
            cancellationToken);
        return connection;
    }

    protected override async Task<DbTransaction> BeginMigrationAsync(DbConnection connection, CancellationToken cancellationToken) =>
        // BEGIN IMMEDIATE: takes the write lock at once, so two migrating processes run one after the other.
        await ((SqliteConnection)connection).BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken);

    protected override object TimeValue(long micros) => micros;

    protected override long ReadTime(DbDataReader reader, int ordinal) => reader.GetInt64(ordinal);

    protected override string BucketExpression => "(observed_at / (@bucket * 1000000))";

    protected override string PatternCondition(PathPattern pattern, DbCommand command)
    {
        Add(command, "pglob", pattern.ToSqliteGlob());
        return "path GLOB @pglob";
    }

    protected override string ContainsCondition(string column, string parameter) => $"instr({column}, {parameter}) > 0";

    protected override async Task<int> InsertBatchAsync(IReadOnlyList<StoredAlert> alerts, CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            var inserted = new List<StoredAlert>(alerts.Count);
            using (var insert = new SqliteRowStatement((SqliteConnection)connection, """
                INSERT INTO alerts (observed_at, alert_id, agent_id, host, path, level, rule_id, kind, policy, actor_exe, actor_user,
                    namespace, pod, stream_seq, stored_at, body, labels, package, package_verified, source)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
                ON CONFLICT (alert_id) DO NOTHING
                """))
            {
                foreach (var a in alerts)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    insert.Bind(1, a.ObservedAtMicros);
                    insert.Bind(2, a.AlertId);
                    insert.Bind(3, a.AgentId);
                    insert.Bind(4, a.Host);
                    insert.Bind(5, a.Path);
                    insert.Bind(6, a.Level);
                    insert.Bind(7, a.RuleId);
                    insert.Bind(8, a.Kind);
                    insert.Bind(9, a.Policy);
                    insert.Bind(10, a.ActorExe);
                    insert.Bind(11, a.ActorUser);
                    insert.Bind(12, a.Namespace);
                    insert.Bind(13, a.Pod);
                    insert.Bind(14, a.StreamSequence);
                    insert.Bind(15, a.StoredAtMicros);
                    insert.Bind(16, a.Json);
                    insert.Bind(17, a.Labels);
                    insert.Bind(18, a.Package);
                    if (a.PackageVerified is { } verified)
                    {
                        insert.Bind(19, verified ? 1 : 0);
                    }
                    else
                    {
                        insert.BindNull(19);
                    }
                    insert.Bind(20, a.Source);
                    if (insert.Execute() > 0)
                    {
                        inserted.Add(a);
                    }
                }
            }
            var (agents, fleet) = CountRollup.Inserted(inserted);
            await ApplyRollupAsync((SqliteConnection)connection, (SqliteTransaction)tx, agents, fleet, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return inserted.Count;
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>Adds the deltas to both rollups (upserts), and removes rows that reach zero.</summary>
    private static async Task ApplyRollupAsync(SqliteConnection connection, SqliteTransaction tx,
        KeyValuePair<RollupKey, long>[] agents, KeyValuePair<FleetRollupKey, long>[] fleet, CancellationToken cancellationToken)
    {
        if (agents.Length == 0)
        {
            return;
        }
        using (var up = new SqliteRowStatement(connection, """
            INSERT INTO alert_counts (hour, level, rule_id, agent_id, namespace, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            ON CONFLICT (hour, level, rule_id, agent_id, namespace) DO UPDATE SET n = n + excluded.n
            """))
        {
            foreach (var (k, delta) in agents)
            {
                up.Bind(1, k.Hour);
                up.Bind(2, k.Level);
                up.Bind(3, k.RuleId);
                up.Bind(4, k.AgentId);
                up.Bind(5, k.Namespace);
                up.Bind(6, delta);
                up.Execute();
            }
        }
        using (var up = new SqliteRowStatement(connection, """
            INSERT INTO alert_counts_fleet (hour, level, rule_id, namespace, n) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT (hour, level, rule_id, namespace) DO UPDATE SET n = n + excluded.n
            """))
        {
            foreach (var (k, delta) in fleet)
            {
                up.Bind(1, k.Hour);
                up.Bind(2, k.Level);
                up.Bind(3, k.RuleId);
                up.Bind(4, k.Namespace);
                up.Bind(5, delta);
                up.Execute();
            }
        }
        if (agents.Any(p => p.Value < 0))
        {
            await using var zero = Command(connection, tx, "DELETE FROM alert_counts WHERE hour <= @h AND n <= 0; DELETE FROM alert_counts_fleet WHERE hour <= @h AND n <= 0");
            Add(zero, "h", agents.Max(p => p.Key.Hour));
            await zero.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    protected override async Task<long> MaintainCoreAsync(DateTimeOffset cutoff, DateTimeOffset now, CancellationToken cancellationToken)
    {
        long removed = 0;
        while (true)
        {
            // Small transactions: the indexer's batches interleave instead of waiting for one long delete. Each removes the
            // oldest alerts and their counts from the rollups together.
            await _writer.WaitAsync(cancellationToken);
            int n;
            try
            {
                await using var connection = (SqliteConnection)await OpenAsync(cancellationToken);
                await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
                var doomed = new List<(long ObservedAtMicros, int Level, string RuleId, string AgentId, string? Namespace)>(DeleteBatch);
                string? lastId = null;
                await using (var select = Command(connection, tx,
                    "SELECT observed_at, level, rule_id, agent_id, namespace, alert_id FROM alerts WHERE observed_at < @cut ORDER BY observed_at, alert_id LIMIT @n"))
                {
                    Add(select, "cut", Micros.From(cutoff));
                    Add(select, "n", DeleteBatch);
                    await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        doomed.Add((reader.GetInt64(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), await reader.IsDBNullAsync(4, cancellationToken) ? null : reader.GetString(4)));
                        lastId = reader.GetString(5);
                    }
                }
                n = doomed.Count;
                if (n > 0)
                {
                    await using (var delete = Command(connection, tx,
                        "DELETE FROM alerts WHERE observed_at < @cut AND observed_at <= @lt AND (observed_at, alert_id) <= (@lt, @lid)"))
                    {
                        Add(delete, "cut", Micros.From(cutoff));
                        Add(delete, "lt", doomed[^1].ObservedAtMicros);
                        Add(delete, "lid", lastId!);
                        n = await delete.ExecuteNonQueryAsync(cancellationToken);
                    }
                    var (agents, fleet) = CountRollup.Delta(doomed, -1);
                    await ApplyRollupAsync(connection, tx, agents, fleet, cancellationToken);
                }
                await tx.CommitAsync(cancellationToken);
            }
            finally
            {
                _writer.Release();
            }
            removed += n;
            if (n < DeleteBatch)
            {
                return removed;
            }
        }
    }

    /// <summary>Recounts both rollups from the stored alerts (after a bulk load that bypassed the store).</summary>
    public async Task RebuildRollupsAsync(CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await _writer.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, tx, "DELETE FROM alert_counts", cancellationToken);
            await ExecuteAsync(connection, tx, "DELETE FROM alert_counts_fleet", cancellationToken);
            foreach (var statement in FillRollups)
            {
                await ExecuteAsync(connection, tx, statement, cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
        }
        finally
        {
            _writer.Release();
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _writer.Dispose();
        SqliteConnection.ClearAllPools();
        await base.DisposeAsync();
    }
}

using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Fim.Manager.Store;

/// <summary>
/// The embedded store: one SQLite file in WAL mode (readers never wait for the writer), synchronous=FULL so a batch
/// acked to JetStream survives a power cut, times as integer microseconds, path matching with GLOB (case-sensitive).
/// Retention deletes by time in batches. One writer: the manager that holds the indexer lock (<see cref="SqliteIndexerLock"/>).
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
    ];

    protected override string CreateVersionTable =>
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)";

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_directory);
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;", cancellationToken);
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

    protected override async Task<int> InsertBatchAsync(IReadOnlyList<StoredAlert> alerts, CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            await using var command = Command(connection, tx, """
                INSERT INTO alerts (observed_at, alert_id, agent_id, host, path, level, rule_id, kind, policy, actor_exe, actor_user,
                    namespace, pod, stream_seq, stored_at, body)
                VALUES (@t, @id, @agent, @host, @path, @level, @rule, @kind, @policy, @exe, @user, @ns, @pod, @seq, @stored, @body)
                ON CONFLICT (alert_id) DO NOTHING
                """);
            var p = new Dictionary<string, DbParameter>();
            foreach (var name in (string[])["t", "id", "agent", "host", "path", "level", "rule", "kind", "policy", "exe", "user", "ns", "pod", "seq", "stored", "body"])
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                command.Parameters.Add(parameter);
                p[name] = parameter;
            }
            await command.PrepareAsync(cancellationToken);
            var inserted = 0;
            foreach (var a in alerts)
            {
                p["t"].Value = a.ObservedAtMicros;
                p["id"].Value = a.AlertId;
                p["agent"].Value = a.AgentId;
                p["host"].Value = a.Host;
                p["path"].Value = a.Path;
                p["level"].Value = a.Level;
                p["rule"].Value = a.RuleId;
                p["kind"].Value = a.Kind;
                p["policy"].Value = (object?)a.Policy ?? DBNull.Value;
                p["exe"].Value = (object?)a.ActorExe ?? DBNull.Value;
                p["user"].Value = (object?)a.ActorUser ?? DBNull.Value;
                p["ns"].Value = (object?)a.Namespace ?? DBNull.Value;
                p["pod"].Value = (object?)a.Pod ?? DBNull.Value;
                p["seq"].Value = a.StreamSequence;
                p["stored"].Value = a.StoredAtMicros;
                p["body"].Value = a.Json;
                inserted += await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
            return inserted;
        }
        finally
        {
            _writer.Release();
        }
    }

    protected override async Task<long> MaintainCoreAsync(DateTimeOffset cutoff, DateTimeOffset now, CancellationToken cancellationToken)
    {
        long removed = 0;
        while (true)
        {
            // Small transactions: the indexer's batches interleave instead of waiting for one long delete.
            await _writer.WaitAsync(cancellationToken);
            int n;
            try
            {
                await using var connection = await OpenAsync(cancellationToken);
                await using var command = Command(connection, null,
                    "DELETE FROM alerts WHERE rowid IN (SELECT rowid FROM alerts WHERE observed_at < @cut LIMIT @n)");
                Add(command, "cut", Micros.From(cutoff));
                Add(command, "n", DeleteBatch);
                n = await command.ExecuteNonQueryAsync(cancellationToken);
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

    public override async ValueTask DisposeAsync()
    {
        _writer.Dispose();
        SqliteConnection.ClearAllPools();
        await base.DisposeAsync();
    }
}

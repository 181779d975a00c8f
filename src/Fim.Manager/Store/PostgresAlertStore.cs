using System.Data.Common;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Fim.Manager.Store;

/// <summary>
/// The production store: alerts range-partitioned by month on observed_at (partitions created ahead, rows outside
/// them in a default partition that later partitions take over), retention by dropping whole partitions. A batch is
/// COPY BINARY straight into the table, or, when it holds an alert already stored, through a staging table and
/// INSERT ... ON CONFLICT DO NOTHING, so a redelivered alert is skipped; the hourly rollup counts of the rows inserted
/// are appended in the same transaction and folded into the rollups later (<see cref="PostgresRollups"/>). Any number
/// of managers may write.
/// </summary>
/// <param name="foldInterval">How often a writing store folds the rollup deltas (default <see cref="FoldInterval"/>).</param>
public sealed class PostgresAlertStore(string connectionString, TimeSpan? foldInterval = null) : SqlAlertStore
{
    /// <summary>The advisory lock key that serialises migrations and partition upkeep across managers.</summary>
    private const long SchemaLock = 0x46494d5354; // "FIMST"
    private const int MonthsAhead = 2;
    /// <summary>The advisory lock key that serialises audit log appends across managers (one chain, no gaps).</summary>
    private const long AuditLock = 0x46494d4155; // "FIMAU"

    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);
    private readonly long _foldEveryMs = (long)Math.Min((foldInterval ?? FoldInterval).TotalMilliseconds, long.MaxValue / 2);
    private long _lastFold = Environment.TickCount64;

    /// <summary>How often a writing store folds the rollup deltas; counts read unfolded deltas too, so this bounds only their number.</summary>
    public static readonly TimeSpan FoldInterval = TimeSpan.FromSeconds(5);

    public override string Backend => "postgres";

    /// <summary>
    /// Fills the (empty) rollups from the stored alerts: migration 5, and <see cref="RebuildRollupsAsync"/>. In hour order,
    /// as ingest writes them (an hour's rows appear while it is current), so a range of hours is a range of pages: read
    /// in hash order instead, the overview's 24 hours of per-agent rows took a random page read each.
    /// </summary>
    private static readonly string[] FillRollups =
    [
        """
        INSERT INTO alert_counts (hour, level, rule_id, agent_id, namespace, n)
        SELECT floor(extract(epoch FROM observed_at) / 3600)::bigint, level, rule_id, agent_id, COALESCE(namespace, ''), count(*)
        FROM alerts GROUP BY 1, 2, 3, 4, 5 ORDER BY 1
        """,
        """
        INSERT INTO alert_counts_fleet (hour, level, rule_id, namespace, n)
        SELECT hour, level, rule_id, namespace, sum(n) FROM alert_counts GROUP BY 1, 2, 3, 4
        """,
    ];

    protected override IReadOnlyList<StoreMigration> Migrations { get; } =
    [
        new(1, "alerts, partitioned by month", [
            """
            CREATE TABLE alerts (
                observed_at timestamptz NOT NULL,
                alert_id text NOT NULL,
                agent_id text NOT NULL,
                host text NOT NULL,
                path text COLLATE "C" NOT NULL,
                level smallint NOT NULL,
                rule_id text NOT NULL,
                kind text NOT NULL,
                policy text,
                actor_exe text,
                actor_user text,
                namespace text,
                pod text,
                stream_seq bigint NOT NULL,
                stored_at timestamptz NOT NULL,
                body bytea NOT NULL,
                PRIMARY KEY (alert_id, observed_at)
            ) PARTITION BY RANGE (observed_at)
            """,
            "CREATE TABLE alerts_default PARTITION OF alerts DEFAULT",
            "CREATE INDEX alerts_time ON alerts (observed_at, alert_id)",
            "CREATE INDEX alerts_agent_time ON alerts (agent_id, observed_at, alert_id)",
            "CREATE INDEX alerts_agent_path_time ON alerts (agent_id, path, observed_at)",
            "CREATE INDEX alerts_path_time ON alerts (path, observed_at)",
            "CREATE INDEX alerts_level_time ON alerts (level, observed_at)",
        ]),
        new(2, "alert reviews", [
            // Apart from the alerts so stored alerts stay append-only (COPY, partition moves) and a review is one upsert.
            """
            CREATE TABLE alert_reviews (
                alert_id text PRIMARY KEY,
                state text NOT NULL CHECK (state IN ('new', 'expected', 'incident', 'false_positive')),
                reviewer text NOT NULL,
                reviewed_at timestamptz NOT NULL,
                comment text)
            """,
            "CREATE INDEX alert_reviews_state ON alert_reviews (state)",
        ]),
        new(AuditSchema.Version, AuditSchema.Description, AuditSchema.Postgres),
        new(ScanSchema.Version, ScanSchema.Description, ScanSchema.Postgres),
        new(5, "hourly alert count rollups; covering path and level indexes", [
            // Inserts wait until the backfill below commits, so it counts every row once; from then on the insert keeps them.
            "LOCK TABLE alerts IN SHARE MODE",
            """
            CREATE TABLE alert_counts (
                hour bigint NOT NULL,
                level smallint NOT NULL,
                rule_id text NOT NULL,
                agent_id text NOT NULL,
                namespace text NOT NULL,
                n bigint NOT NULL,
                PRIMARY KEY (hour, level, rule_id, agent_id, namespace))
            """,
            "CREATE INDEX alert_counts_agent ON alert_counts (agent_id, hour)",
            """
            CREATE TABLE alert_counts_fleet (
                hour bigint NOT NULL,
                level smallint NOT NULL,
                rule_id text NOT NULL,
                namespace text NOT NULL,
                n bigint NOT NULL,
                PRIMARY KEY (hour, level, rule_id, namespace))
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
            // A constant default: no table rewrite; the backfill below rewrites only rows whose JSON mentions labels or a package.
            "ALTER TABLE alerts ADD COLUMN labels text NOT NULL DEFAULT ''",
            "ALTER TABLE alerts ADD COLUMN package text",
            "ALTER TABLE alerts ADD COLUMN package_verified boolean",
            // Older rows from their stored JSON, encoded as StoredLabels does (text cannot hold NUL, so no %00 here).
            """
            UPDATE alerts SET
                labels = COALESCE((SELECT E'\n' || string_agg(
                        replace(replace(replace(key, '%', '%25'), '=', '%3D'), E'\n', '%0A') || '='
                        || replace(replace(replace(value, '%', '%25'), '=', '%3D'), E'\n', '%0A'), E'\n' ORDER BY key COLLATE "C") || E'\n'
                    FROM json_each_text(convert_from(body, 'UTF8')::json -> 'labels')), ''),
                package = convert_from(body, 'UTF8')::json -> 'package' ->> 'name',
                package_verified = (convert_from(body, 'UTF8')::json -> 'package' ->> 'verified')::boolean
            WHERE position('"labels"'::bytea IN body) > 0 OR position('"package"'::bytea IN body) > 0
            """,
        ]),
        new(7, "where each alert's event came from (source filter: scan, realtime, falco, prowler, json)", [
            "ALTER TABLE alerts ADD COLUMN source text NOT NULL DEFAULT ''",
            "UPDATE alerts SET source = COALESCE(convert_from(body, 'UTF8')::json ->> 'source', '')",
            "CREATE INDEX alerts_source_time_id ON alerts (source, observed_at, alert_id)",
        ]),
        new(8, "rollup counts appended per batch and folded later (PostgresRollups)", [PostgresRollups.CreateDeltas]),
    ];

    protected override string CreateVersionTable =>
        "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL)";

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => await _source.OpenConnectionAsync(cancellationToken);

    protected override async Task<DbTransaction> BeginMigrationAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var tx = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, tx, $"SELECT pg_advisory_xact_lock({SchemaLock})", cancellationToken);
        return tx;
    }

    protected override async Task<DbTransaction> BeginAuditAppendAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var tx = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, tx, $"SELECT pg_advisory_xact_lock({AuditLock})", cancellationToken);
        return tx;
    }

    protected override object TimeValue(long micros) => Micros.ToTime(micros).UtcDateTime;

    protected override long ReadTime(DbDataReader reader, int ordinal) =>
        Micros.From(new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc)));

    protected override string BucketExpression => "floor(extract(epoch FROM observed_at) / @bucket)::bigint";

    protected override string RollupSource(string table) => table == "alert_counts" ? PostgresRollups.AgentSource : PostgresRollups.FleetSource;

    protected override string ContainsCondition(string column, string parameter) => $"strpos({column}, {parameter}) > 0";

    protected override string PatternCondition(PathPattern pattern, DbCommand command)
    {
        Add(command, "plike", pattern.ToLike());
        return @"path LIKE @plike ESCAPE '\'";
    }

    /// <summary>The columns a COPY writes, in <see cref="WriteRowAsync"/>'s order (also the benchmark's bare COPY).</summary>
    public const string Columns = "observed_at, alert_id, agent_id, host, path, level, rule_id, kind, policy, actor_exe, actor_user, namespace, pod, stream_seq, stored_at, body, labels, package, package_verified, source";

    /// <summary>
    /// The batch, each alert id once, goes by COPY BINARY straight into <c>alerts</c> with its rollup counts, one
    /// transaction. If an alert is already stored (a redelivery, a restart after a commit whose acks were lost) the COPY
    /// fails on the key and nothing of it stays; the batch then goes the idempotent way: COPY into a staging table,
    /// <c>INSERT ... ON CONFLICT DO NOTHING RETURNING</c>, and the rollup counts only the rows returned.
    /// </summary>
    protected override async Task<int> InsertBatchAsync(IReadOnlyList<StoredAlert> alerts, CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // In alert id order: the key and the two agent-led indexes (an alert id starts with its agent's) are then filled
        // in key order, each B-tree walked left to right instead of jumped about (less server CPU per alert in the
        // ingest profile), and concurrent batches that share alerts meet on the key in one order (no deadlock there).
        var unique = alerts.Where(a => seen.Add(a.AlertId)).OrderBy(a => a.AlertId, StringComparer.Ordinal).ToList();
        try
        {
            return await InsertDirectAsync(unique, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return await InsertStagedAsync(unique, cancellationToken);
        }
    }

    private async Task<int> InsertDirectAsync(List<StoredAlert> alerts, CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var copy = await connection.BeginBinaryImportAsync($"COPY alerts ({Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var a in alerts)
            {
                await WriteRowAsync(copy, a, cancellationToken);
            }
            await copy.CompleteAsync(cancellationToken);
        }
        await PostgresRollups.AddAsync(connection, tx, alerts, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        await FoldWhenDueAsync(connection, cancellationToken);
        return alerts.Count;
    }

    /// <summary>
    /// Folds the rollup deltas every fold interval of writing, after the batch committed. A failed fold fails the call;
    /// the indexer's retry then finds the alerts stored and takes the idempotent way, so nothing counts twice.
    /// </summary>
    private async Task FoldWhenDueAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastFold);
        if (now - last < _foldEveryMs || Interlocked.CompareExchange(ref _lastFold, now, last) != last)
        {
            return;
        }
        await PostgresRollups.FoldAsync(connection, null, cancellationToken);
    }

    private async Task<int> InsertStagedAsync(List<StoredAlert> alerts, CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, tx,
            "CREATE TEMP TABLE IF NOT EXISTS alerts_staging (LIKE alerts INCLUDING DEFAULTS) ON COMMIT DELETE ROWS", cancellationToken);
        await using (var copy = await connection.BeginBinaryImportAsync($"COPY alerts_staging ({Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var a in alerts)
            {
                await WriteRowAsync(copy, a, cancellationToken);
            }
            await copy.CompleteAsync(cancellationToken);
        }
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        await using (var move = Command(connection, tx, "INSERT INTO alerts SELECT * FROM alerts_staging ON CONFLICT DO NOTHING RETURNING alert_id"))
        await using (var reader = await move.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                inserted.Add(reader.GetString(0));
            }
        }
        await PostgresRollups.AddAsync(connection, tx, [.. alerts.Where(a => inserted.Contains(a.AlertId))], cancellationToken);
        await tx.CommitAsync(cancellationToken);
        await FoldWhenDueAsync(connection, cancellationToken);
        return inserted.Count;
    }

    /// <summary>One row in COPY BINARY form (also what the benchmark's bare COPY writes).</summary>
    public static async Task WriteRowAsync(NpgsqlBinaryImporter copy, StoredAlert a, CancellationToken cancellationToken)
    {
        await copy.StartRowAsync(cancellationToken);
        await copy.WriteAsync(Micros.ToTime(a.ObservedAtMicros).UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
        await copy.WriteAsync(a.AlertId, NpgsqlDbType.Text, cancellationToken);
        await copy.WriteAsync(a.AgentId, NpgsqlDbType.Text, cancellationToken);
        await copy.WriteAsync(a.Host, NpgsqlDbType.Text, cancellationToken);
        await copy.WriteAsync(a.Path, NpgsqlDbType.Text, cancellationToken);
        await copy.WriteAsync((short)a.Level, NpgsqlDbType.Smallint, cancellationToken);
        await copy.WriteAsync(a.RuleId, NpgsqlDbType.Text, cancellationToken);
        await copy.WriteAsync(a.Kind, NpgsqlDbType.Text, cancellationToken);
        await WriteNullableAsync(copy, a.Policy, cancellationToken);
        await WriteNullableAsync(copy, a.ActorExe, cancellationToken);
        await WriteNullableAsync(copy, a.ActorUser, cancellationToken);
        await WriteNullableAsync(copy, a.Namespace, cancellationToken);
        await WriteNullableAsync(copy, a.Pod, cancellationToken);
        await copy.WriteAsync(a.StreamSequence, NpgsqlDbType.Bigint, cancellationToken);
        await copy.WriteAsync(Micros.ToTime(a.StoredAtMicros).UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
        await copy.WriteAsync(a.Json, NpgsqlDbType.Bytea, cancellationToken);
        await copy.WriteAsync(a.Labels, NpgsqlDbType.Text, cancellationToken);
        await WriteNullableAsync(copy, a.Package, cancellationToken);
        if (a.PackageVerified is { } verified)
        {
            await copy.WriteAsync(verified, NpgsqlDbType.Boolean, cancellationToken);
        }
        else
        {
            await copy.WriteNullAsync(cancellationToken);
        }
        await copy.WriteAsync(a.Source, NpgsqlDbType.Text, cancellationToken);
    }

    private static async Task WriteNullableAsync(NpgsqlBinaryImporter copy, string? value, CancellationToken cancellationToken)
    {
        if (value is null)
        {
            await copy.WriteNullAsync(cancellationToken);
        }
        else
        {
            await copy.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);
        }
    }

    /// <summary>Folds every rollup delta now (the benchmark, so its timed ingest includes the folding it owes).</summary>
    public async Task<int> FoldRollupsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        return await PostgresRollups.FoldAsync(connection, null, cancellationToken);
    }

    /// <summary>Opens a connection for the benchmark's bare COPY.</summary>
    public ValueTask<NpgsqlConnection> OpenRawAsync(CancellationToken cancellationToken) => _source.OpenConnectionAsync(cancellationToken);

    protected override async Task<long> MaintainCoreAsync(DateTimeOffset cutoff, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, tx, $"SELECT pg_advisory_xact_lock({SchemaLock})", cancellationToken);
        // Every count in the rollups before removing the dropped months' counts, or a later fold would add them back.
        await PostgresRollups.FoldAsync(connection, tx, cancellationToken);
        var existing = new HashSet<string>(StringComparer.Ordinal);
        await using (var list = Command(connection, tx,
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'alerts'::regclass"))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                existing.Add(reader.GetString(0));
            }
        }
        long dropped = 0;
        foreach (var name in existing)
        {
            if (MonthOf(name) is { } month && month.AddMonths(1) <= cutoff)
            {
                await using var count = Command(connection, tx, $"SELECT count(*) FROM {name}");
                dropped += (long)(await count.ExecuteScalarAsync(cancellationToken))!;
                await ExecuteAsync(connection, tx, $"DROP TABLE {name}", cancellationToken);
                // The partition held exactly the month's alerts, so its counts are exactly the month's rollup rows.
                await using var counts = Command(connection, tx,
                    "DELETE FROM alert_counts WHERE hour >= @h0 AND hour < @h1; DELETE FROM alert_counts_fleet WHERE hour >= @h0 AND hour < @h1");
                Add(counts, "h0", CountRollup.HourOf(Micros.From(month)));
                Add(counts, "h1", CountRollup.HourOf(Micros.From(month.AddMonths(1))));
                await counts.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        await using (var old = Command(connection, tx, """
            WITH gone AS (DELETE FROM alerts_default WHERE observed_at < @cut RETURNING observed_at, level, rule_id, agent_id, namespace),
            d AS (SELECT floor(extract(epoch FROM observed_at) / 3600)::bigint AS hour, level, rule_id, agent_id, COALESCE(namespace, '') AS namespace,
                count(*) AS n FROM gone GROUP BY 1, 2, 3, 4, 5),
            a AS (UPDATE alert_counts c SET n = c.n - d.n FROM d
                WHERE c.hour = d.hour AND c.level = d.level AND c.rule_id = d.rule_id AND c.agent_id = d.agent_id AND c.namespace = d.namespace),
            f AS (UPDATE alert_counts_fleet c SET n = c.n - x.n
                FROM (SELECT hour, level, rule_id, namespace, sum(n)::bigint AS n FROM d GROUP BY 1, 2, 3, 4) x
                WHERE c.hour = x.hour AND c.level = x.level AND c.rule_id = x.rule_id AND c.namespace = x.namespace)
            SELECT count(*) FROM gone
            """))
        {
            Add(old, "cut", cutoff.UtcDateTime);
            dropped += (long)(await old.ExecuteScalarAsync(cancellationToken))!;
        }
        await using (var zero = Command(connection, tx,
            "DELETE FROM alert_counts WHERE hour <= @h AND n <= 0; DELETE FROM alert_counts_fleet WHERE hour <= @h AND n <= 0"))
        {
            Add(zero, "h", CountRollup.HourOf(Micros.From(cutoff)));
            await zero.ExecuteNonQueryAsync(cancellationToken);
        }
        var first = new DateTimeOffset(cutoff.Year, cutoff.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var last = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(MonthsAhead);
        for (var month = first; month <= last; month = month.AddMonths(1))
        {
            var name = PartitionName(month);
            if (!existing.Contains(name))
            {
                await CreatePartitionAsync(connection, tx, name, month, cancellationToken);
            }
        }
        await tx.CommitAsync(cancellationToken);
        return dropped;
    }

    /// <summary>
    /// A month's partition. Rows of that month already in the default partition (a backfill, a skewed clock) move into
    /// it first, since PostgreSQL refuses a partition whose range the default partition holds rows of.
    /// </summary>
    private static async Task CreatePartitionAsync(NpgsqlConnection connection, DbTransaction tx, string name, DateTimeOffset month, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, tx, $"CREATE TABLE {name} (LIKE alerts INCLUDING DEFAULTS)", cancellationToken);
        await using (var move = Command(connection, tx,
            $"WITH moved AS (DELETE FROM alerts_default WHERE observed_at >= @lo AND observed_at < @hi RETURNING *) INSERT INTO {name} SELECT * FROM moved"))
        {
            Add(move, "lo", month.UtcDateTime);
            Add(move, "hi", month.AddMonths(1).UtcDateTime);
            await move.ExecuteNonQueryAsync(cancellationToken);
        }
        await ExecuteAsync(connection, tx,
            $"ALTER TABLE alerts ATTACH PARTITION {name} FOR VALUES FROM ('{month.UtcDateTime:yyyy-MM-dd}T00:00:00Z') TO ('{month.AddMonths(1).UtcDateTime:yyyy-MM-dd}T00:00:00Z')",
            cancellationToken);
    }

    public static string PartitionName(DateTimeOffset month) => $"alerts_p{month.UtcDateTime:yyyyMM}";

    private static DateTimeOffset? MonthOf(string partition) =>
        partition.StartsWith("alerts_p", StringComparison.Ordinal)
        && DateTime.TryParseExact(partition["alerts_p".Length..], "yyyyMM", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var m)
            ? new DateTimeOffset(m, TimeSpan.Zero)
            : null;

    /// <summary>Recounts both rollups from the stored alerts (after a bulk load that bypassed the store, as the benchmark does).</summary>
    public async Task RebuildRollupsAsync(CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, tx, "LOCK TABLE alerts IN SHARE MODE", cancellationToken);
        await ExecuteAsync(connection, tx, "DELETE FROM alert_counts", cancellationToken);
        await ExecuteAsync(connection, tx, "DELETE FROM alert_counts_fleet", cancellationToken);
        await ExecuteAsync(connection, tx, "DELETE FROM alert_count_deltas", cancellationToken);
        foreach (var statement in FillRollups)
        {
            await ExecuteUnboundedAsync(connection, tx, statement, cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        await _source.DisposeAsync();
        await base.DisposeAsync();
    }
}

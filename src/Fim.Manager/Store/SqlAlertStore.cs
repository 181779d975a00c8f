using System.Data.Common;
using System.Text;

namespace Fim.Manager.Store;

/// <summary>
/// What both SQL backends share: the migration runner, and the search and count queries built from filters with bound
/// parameters only. The subclasses supply connections, the dialect's few differences and the batch insert.
/// </summary>
public abstract partial class SqlAlertStore : IAlertStore
{
    private readonly SemaphoreSlim _migrate = new(1, 1);
    private volatile bool _migrated;

    public abstract string Backend { get; }

    /// <summary>The schema, version by version; a later migration adds (a review state column, an audit table), never edits one.</summary>
    protected abstract IReadOnlyList<StoreMigration> Migrations { get; }

    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Begins the migration transaction and makes concurrent migrators wait for each other.</summary>
    protected abstract Task<DbTransaction> BeginMigrationAsync(DbConnection connection, CancellationToken cancellationToken);

    protected abstract string CreateVersionTable { get; }

    /// <summary>A time parameter's value for the backend (timestamptz or integer microseconds).</summary>
    protected abstract object TimeValue(long micros);

    protected abstract long ReadTime(DbDataReader reader, int ordinal);

    /// <summary>The bucket number (start / bucket) of a row, for a bucket of @bucket seconds.</summary>
    protected abstract string BucketExpression { get; }

    /// <summary>A condition that the path matches <paramref name="pattern"/>, adding the parameter it needs.</summary>
    protected abstract string PatternCondition(PathPattern pattern, DbCommand command);

    /// <summary>A condition that text <paramref name="column"/> contains the value of parameter <paramref name="parameter"/> as a plain substring (no pattern).</summary>
    protected abstract string ContainsCondition(string column, string parameter);

    protected abstract Task<int> InsertBatchAsync(IReadOnlyList<StoredAlert> alerts, CancellationToken cancellationToken);

    protected abstract Task<long> MaintainCoreAsync(DateTimeOffset cutoff, DateTimeOffset now, CancellationToken cancellationToken);

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        if (_migrated)
        {
            return;
        }
        await _migrate.WaitAsync(cancellationToken);
        try
        {
            if (_migrated)
            {
                return;
            }
            await using var connection = await OpenAsync(cancellationToken);
            foreach (var migration in Migrations)
            {
                await using var tx = await BeginMigrationAsync(connection, cancellationToken);
                await ExecuteAsync(connection, tx, CreateVersionTable, cancellationToken);
                await using (var check = Command(connection, tx, "SELECT count(*) FROM schema_version WHERE version = @v"))
                {
                    Add(check, "v", migration.Version);
                    if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > 0)
                    {
                        await tx.CommitAsync(cancellationToken);
                        continue;
                    }
                }
                foreach (var statement in migration.Statements)
                {
                    await ExecuteUnboundedAsync(connection, tx, statement, cancellationToken);
                }
                await using (var record = Command(connection, tx, "INSERT INTO schema_version (version, description, applied_at) VALUES (@v, @d, @t)"))
                {
                    Add(record, "v", migration.Version);
                    Add(record, "d", migration.Description);
                    Add(record, "t", TimeValue(Micros.From(DateTimeOffset.UtcNow)));
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }
                await tx.CommitAsync(cancellationToken);
            }
            _migrated = true;
        }
        finally
        {
            _migrate.Release();
        }
    }

    public async Task<IReadOnlyList<int>> SchemaVersionsAsync(CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, "SELECT version FROM schema_version ORDER BY version");
        var versions = new List<int>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(Convert.ToInt32(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture));
        }
        return versions;
    }

    public async Task<int> InsertAsync(IReadOnlyList<StoredAlert> alerts, CancellationToken cancellationToken)
    {
        if (alerts.Count == 0)
        {
            return 0;
        }
        await MigrateAsync(cancellationToken);
        return await InsertBatchAsync(alerts, cancellationToken);
    }

    public async Task<long> MaintainAsync(DateTimeOffset cutoff, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        var removed = await MaintainCoreAsync(cutoff, now, cancellationToken);
        await DeleteOrphanReviewsAsync(cancellationToken);
        return removed;
    }

    public async Task<(long Rows, long Distinct)> TallyAsync(CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, "SELECT count(*), count(DISTINCT alert_id) FROM alerts");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<AlertPage> SearchAsync(AlertQuery query, CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var where = Where(query, command, out var impossible);
        if (impossible)
        {
            return new AlertPage([], null);
        }
        var (order, compare) = query.OldestFirst ? ("ASC", ">") : ("DESC", "<");
        if (query.After is { } after)
        {
            Add(command, "ct", TimeValue(after.ObservedAtMicros));
            Add(command, "cid", after.AlertId);
            where.Append($" AND (observed_at, alert_id) {compare} (@ct, @cid)");
        }
        Add(command, "lim", query.Limit + 1);
        // The page's keys first, from an index alone where one covers the filters (no heap read for rows that miss the
        // page), then those rows: a filter matching 20,000 rows of which the page holds 100 reads 100 alerts, not 20,000.
        command.CommandText = "SELECT a.observed_at, a.alert_id, a.stream_seq, a.stored_at, a.body FROM "
            + $"(SELECT observed_at, alert_id FROM alerts WHERE {where} ORDER BY observed_at {order}, alert_id {order} LIMIT @lim) k "
            + "JOIN alerts a ON a.alert_id = k.alert_id AND a.observed_at = k.observed_at "
            + $"ORDER BY a.observed_at {order}, a.alert_id {order}";
        var rows = new List<AlertRow>(Math.Min(query.Limit + 1, 1024));
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new AlertRow(ReadTime(reader, 0), reader.GetString(1), reader.GetInt64(2), ReadTime(reader, 3), (byte[])reader.GetValue(4)));
            }
        }
        AlertCursor? next = null;
        if (rows.Count > query.Limit)
        {
            rows.RemoveAt(rows.Count - 1);
            next = rows[^1].Cursor;
        }
        return new AlertPage(await WithReviewsAsync(connection, rows, cancellationToken), next);
    }

    public async Task<IReadOnlyList<CountRow>> CountAsync(CountQuery query, CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        var seconds = (long)query.Bucket.TotalSeconds;
        var anyState = query with { Filter = query.Filter with { ReviewState = null } };
        if (query.Filter.ReviewState == ReviewStates.New && CountRollup.Plan(anyState) is not null)
        {
            // Unreviewed = all (from the rollup) less those reviewed into another state, read from the few reviews.
            var all = await CountAsync(anyState, cancellationToken);
            var left = all.ToDictionary(r => (r.BucketStart, r.Key), r => r.Count);
            void Subtract(long bucket, string key, long n)
            {
                var at = (DateTimeOffset.UnixEpoch.AddSeconds(bucket * seconds), key);
                left[at] = left.GetValueOrDefault(at) - n;
            }
            await CountRawAsync(connection, anyState, Subtract, cancellationToken, ReviewedAway);
            return [.. left.Where(t => t.Value != 0).OrderBy(t => t.Key.BucketStart).ThenBy(t => t.Key.Key, StringComparer.Ordinal)
                .Select(t => new CountRow(t.Key.BucketStart, t.Key.Key, t.Value))];
        }
        if (CountRollup.Plan(query) is not { } plan)
        {
            var rows = new List<CountRow>();
            await CountRawAsync(connection, query, (b, k, n) => rows.Add(new CountRow(DateTimeOffset.UnixEpoch.AddSeconds(b * seconds), k, n)), cancellationToken);
            return rows;
        }
        // Whole hours from the rollup, the partial hours at either end from the alerts; summed per bucket and key.
        var totals = new Dictionary<(long Bucket, string Key), long>();
        void Sum(long bucket, string key, long n) => totals[(bucket, key)] = totals.GetValueOrDefault((bucket, key)) + n;
        foreach (var (from, to) in new[] { plan.RawBefore, plan.RawAfter }.OfType<(long, long)>())
        {
            var part = query with { Filter = query.Filter with { Since = Micros.ToTime(from), Until = Micros.ToTime(to) } };
            await CountRawAsync(connection, part, Sum, cancellationToken);
        }
        await CountRollupAsync(connection, query, plan, Sum, cancellationToken);
        return [.. totals.Where(t => t.Value != 0)
            .OrderBy(t => t.Key.Bucket).ThenBy(t => t.Key.Key, StringComparer.Ordinal)
            .Select(t => new CountRow(DateTimeOffset.UnixEpoch.AddSeconds(t.Key.Bucket * seconds), t.Key.Key, t.Value))];
    }

    /// <summary>Alerts reviewed into a state other than new: the part of a count the rollup cannot tell apart.</summary>
    private const string ReviewedAway = "alerts.alert_id IN (SELECT r.alert_id FROM alert_reviews r WHERE r.state <> 'new')";

    private async Task CountRawAsync(DbConnection connection, CountQuery query, Action<long, string, long> add, CancellationToken cancellationToken,
        string? condition = null)
    {
        await using var command = connection.CreateCommand();
        var where = Where(query.Filter, command, out var impossible) + (condition is null ? "" : " AND " + condition);
        if (impossible)
        {
            return;
        }
        var key = query.Key switch
        {
            CountKey.Level => "CAST(level AS TEXT)",
            CountKey.Rule => "rule_id",
            CountKey.Agent => "agent_id",
            _ => "COALESCE(namespace, '')",
        };
        Add(command, "bucket", (long)query.Bucket.TotalSeconds);
        command.CommandText = $"SELECT {BucketExpression} AS b, {key} AS k, count(*) FROM alerts WHERE {where} GROUP BY b, k ORDER BY b, k";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            add(Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture), reader.GetString(1), Convert.ToInt64(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>What a count reads for rollup <paramref name="table"/> (alert_counts or alert_counts_fleet), aliased to its name.</summary>
    protected virtual string RollupSource(string table) => table;

    private async Task CountRollupAsync(DbConnection connection, CountQuery query, RollupPlan plan, Action<long, string, long> add, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        var f = query.Filter;
        var where = new StringBuilder("1=1");
        void Condition(string sql, string name, object? value)
        {
            if (value is not null)
            {
                Add(command, name, value);
                where.Append(" AND ").Append(sql);
            }
        }
        Condition("hour >= @h0", "h0", plan.FirstHour);
        Condition("hour < @h1", "h1", plan.EndHour);
        Condition("agent_id = @agent", "agent", f.AgentId);
        Condition("level >= @minl", "minl", f.MinLevel);
        Condition("level <= @maxl", "maxl", f.MaxLevel);
        Condition("rule_id = @rule", "rule", f.RuleId);
        Condition("namespace = @ns", "ns", f.Namespace);
        var key = query.Key switch
        {
            CountKey.Level => "CAST(level AS TEXT)",
            CountKey.Rule => "rule_id",
            CountKey.Agent => "agent_id",
            _ => "namespace",
        };
        Add(command, "bh", plan.BucketHours);
        command.CommandText = $"SELECT hour / @bh AS b, {key} AS k, sum(n) FROM {RollupSource(plan.Table)} WHERE {where} GROUP BY b, k";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            add(Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture), reader.GetString(1), Convert.ToInt64(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The filters as a condition with parameters; <paramref name="impossible"/> when nothing can match (a NUL in a path).</summary>
    private StringBuilder Where(AlertQuery q, DbCommand command, out bool impossible)
    {
        var where = new StringBuilder("1=1");
        // No path, name or label holds NUL, and PostgreSQL text cannot: a filter with one matches nothing, literally.
        impossible = new[] { q.AgentId, q.Host, q.RuleId, q.Kind, q.Source, q.Namespace, q.Pod, q.Actor, q.Package, q.Path }.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true);
        if (impossible)
        {
            return where;
        }
        void Equal(string column, string name, object? value)
        {
            if (value is not null)
            {
                Add(command, name, value);
                where.Append($" AND {column} = @{name}");
            }
        }
        if (q.Since is { } since)
        {
            Add(command, "since", TimeValue(Micros.From(since)));
            where.Append(" AND observed_at >= @since");
        }
        if (q.Until is { } until)
        {
            Add(command, "until", TimeValue(Micros.From(until)));
            where.Append(" AND observed_at < @until");
        }
        Equal("agent_id", "agent", q.AgentId);
        Equal("host", "host", q.Host);
        Equal("rule_id", "rule", q.RuleId);
        Equal("kind", "kind", q.Kind);
        Equal("source", "source", q.Source);
        Equal("namespace", "ns", q.Namespace);
        Equal("pod", "pod", q.Pod);
        ReviewStateCondition(q.ReviewState, command, where);
        if (q.MinLevel is { } min)
        {
            Add(command, "minl", min);
            where.Append(" AND level >= @minl");
        }
        if (q.MaxLevel is { } max)
        {
            Add(command, "maxl", max);
            where.Append(" AND level <= @maxl");
        }
        if (q.Actor is { } actor)
        {
            Add(command, "actor", actor);
            where.Append(" AND (actor_exe = @actor OR actor_user = @actor)");
        }
        if (q.Selector is { } selector && !SelectorCondition(selector, command, where))
        {
            impossible = true;
            return where;
        }
        if (q.PackageUpdate is { } update)
        {
            // package_verified is null for an alert without a package: that is "not a package update" too.
            Add(command, "pkgupd", update);
            where.Append(update ? " AND package_verified = @pkgupd" : " AND (package_verified IS NULL OR package_verified = @pkgupd)");
        }
        Equal("package", "pkg", q.Package);
        if (q.Path is { } path)
        {
            var pattern = q.PathMatch switch
            {
                PathMatch.Exact => null,
                PathMatch.Prefix => PathPattern.Prefix(path),
                _ => PathPattern.TryParseGlob(path, out _) ?? throw new ArgumentException("invalid glob", nameof(q)),
            };
            if (pattern is null)
            {
                Equal("path", "path", path);
            }
            else
            {
                // The literal prefix as a range, so a B-tree on path serves it whatever the pattern's wildcards.
                if (pattern.LiteralPrefix.Length > 0)
                {
                    Add(command, "plo", pattern.LiteralPrefix);
                    Add(command, "phi", PathPattern.UpperBound(pattern.LiteralPrefix));
                    where.Append(" AND path >= @plo AND path < @phi");
                }
                where.Append(" AND ").Append(PatternCondition(pattern, command));
            }
        }
        return where;
    }

    /// <summary>
    /// The selector as one substring condition per label requirement on the labels column (<see cref="StoredLabels"/>),
    /// every value a parameter; false when it cannot hold for any alert (an operator the selector does not know).
    /// </summary>
    private bool SelectorCondition(Fim.Contracts.LabelSelector selector, DbCommand command, StringBuilder where)
    {
        var n = 0;
        string Has(string needle)
        {
            var name = $"sel{n++}";
            Add(command, name, needle);
            return "(" + ContainsCondition("labels", "@" + name) + ")";
        }
        string AnyOf(string key, IEnumerable<string> values) => "(" + string.Join(" OR ", values.Select(v => Has(StoredLabels.Pair(key, v)))) + ")";
        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            where.Append(" AND ").Append(Has(StoredLabels.Pair(key, value)));
        }
        foreach (var r in selector.MatchExpressions ?? [])
        {
            var values = r.Values ?? [];
            switch (r.Operator)
            {
                case "In" when values.Count > 0:
                    where.Append(" AND ").Append(AnyOf(r.Key, values));
                    break;
                case "In":
                    return false;
                case "NotIn" when values.Count > 0:
                    where.Append(" AND NOT ").Append(AnyOf(r.Key, values));
                    break;
                case "NotIn":
                    break;
                case "Exists":
                    where.Append(" AND ").Append(Has(StoredLabels.Key(r.Key)));
                    break;
                case "DoesNotExist":
                    where.Append(" AND NOT ").Append(Has(StoredLabels.Key(r.Key)));
                    break;
                default:
                    return false;
            }
        }
        return true;
    }

    protected static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        return command;
    }

    protected static async Task ExecuteAsync(DbConnection connection, DbTransaction? tx, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, tx, sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// A statement that reads or rewrites the whole store (a migration's backfill, a rollup rebuild): no command timeout,
    /// since over millions of alerts it takes minutes, and the caller's cancellation still stops it.
    /// </summary>
    protected static async Task ExecuteUnboundedAsync(DbConnection connection, DbTransaction? tx, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, tx, sql);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected static void Add(DbCommand command, string name, object value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        command.Parameters.Add(p);
    }

    public virtual ValueTask DisposeAsync()
    {
        _migrate.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>One schema version: its statements run in one transaction with the row that records it.</summary>
public sealed record StoreMigration(int Version, string Description, IReadOnlyList<string> Statements);

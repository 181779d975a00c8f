using System.Data.Common;

namespace Fim.Manager.Store;

/// <summary>The scans table and the compliance report's reads; the same bound-parameter SQL on both backends.</summary>
public abstract partial class SqlAlertStore : IScanStore
{
    private const string ScanColumns =
        "scan_id, agent_id, host, policy, policy_revision, trigger, started_at, finished_at, duration_ms, files, directories, bytes_hashed, "
        + "added, changed, removed, errors, result, baseline_digest, schedule_seconds, stream_seq, stored_at, body";

    /// <summary>A time column as integer microseconds since the epoch, for arithmetic (gaps).</summary>
    private string MicrosOf(string column) => Backend == "postgres" ? $"(extract(epoch FROM {column}) * 1000000)::bigint" : column;

    public async Task<int> InsertScansAsync(IReadOnlyList<StoredScan> scans, CancellationToken cancellationToken)
    {
        if (scans.Count == 0)
        {
            return 0;
        }
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var inserted = 0;
        foreach (var s in scans)
        {
            var r = s.Record;
            await using var command = Command(connection, tx,
                $"INSERT INTO scans ({ScanColumns}) VALUES (@id, @agent, @host, @policy, @rev, @trigger, @started, @finished, @ms, @files, @dirs, @bytes, "
                + "@added, @changed, @removed, @errors, @result, @digest, @schedule, @seq, @stored, @body) ON CONFLICT (scan_id) DO NOTHING");
            Add(command, "id", r.ScanId);
            Add(command, "agent", r.AgentId);
            Add(command, "host", r.Host);
            Add(command, "policy", r.Policy);
            Add(command, "rev", r.PolicyRevision);
            Add(command, "trigger", r.Trigger);
            Add(command, "started", TimeValue(Micros.From(r.StartedAt)));
            Add(command, "finished", TimeValue(Micros.From(r.FinishedAt)));
            Add(command, "ms", r.DurationMs);
            Add(command, "files", r.Files);
            Add(command, "dirs", r.Directories);
            Add(command, "bytes", r.BytesHashed);
            Add(command, "added", r.Added);
            Add(command, "changed", r.Changed);
            Add(command, "removed", r.Removed);
            Add(command, "errors", r.Errors);
            Add(command, "result", r.Result);
            Add(command, "digest", r.BaselineDigest);
            Add(command, "schedule", r.ScheduleSeconds);
            Add(command, "seq", s.StreamSequence);
            Add(command, "stored", TimeValue(s.StoredAtMicros));
            Add(command, "body", s.Json);
            inserted += await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return inserted;
    }

    public async Task<ScanPage> SearchScansAsync(ScanQuery query, CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var where = new System.Text.StringBuilder("1=1");
        if (query.Since is { } since)
        {
            Add(command, "since", TimeValue(Micros.From(since)));
            where.Append(" AND finished_at >= @since");
        }
        if (query.Until is { } until)
        {
            Add(command, "until", TimeValue(Micros.From(until)));
            where.Append(" AND finished_at < @until");
        }
        if (query.AgentId is { } agent)
        {
            Add(command, "agent", agent);
            where.Append(" AND agent_id = @agent");
        }
        if (query.Policy is { } policy)
        {
            Add(command, "policy", policy);
            where.Append(" AND policy = @policy");
        }
        if (query.After is { } after)
        {
            Add(command, "ct", TimeValue(after.ObservedAtMicros));
            Add(command, "cid", after.AlertId);
            where.Append(" AND (finished_at, scan_id) < (@ct, @cid)");
        }
        Add(command, "lim", query.Limit + 1);
        command.CommandText = $"SELECT finished_at, scan_id, body FROM scans WHERE {where} ORDER BY finished_at DESC, scan_id DESC LIMIT @lim";
        var rows = new List<ScanRow>(Math.Min(query.Limit + 1, 1024));
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new ScanRow(ReadTime(reader, 0), reader.GetString(1), (byte[])reader.GetValue(2)));
            }
        }
        if (rows.Count <= query.Limit)
        {
            return new ScanPage(rows, null);
        }
        rows.RemoveAt(rows.Count - 1);
        return new ScanPage(rows, rows[^1].Cursor);
    }

    public async Task<IReadOnlyList<ScanSummary>> SummarizeScansAsync(DateTimeOffset from, DateTimeOffset to, IReadOnlyCollection<string>? agents,
        CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        var t = MicrosOf("finished_at");
        await using var command = Command(connection, null, "");
        command.CommandText = $"""
            SELECT agent_id, policy, count(*), min(t), max(t), max(t - prev), max(schedule_seconds), sum(CASE WHEN result = 'error' THEN 1 ELSE 0 END)
            FROM (SELECT agent_id, policy, schedule_seconds, result, {t} AS t,
                         LAG({t}) OVER (PARTITION BY agent_id, policy ORDER BY finished_at, scan_id) AS prev
                  FROM scans WHERE finished_at >= @from AND finished_at < @to{AgentFilter(command, "agent_id", agents)}) s
            GROUP BY agent_id, policy
            """;
        Add(command, "from", TimeValue(Micros.From(from)));
        Add(command, "to", TimeValue(Micros.From(to)));
        var list = new List<ScanSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new ScanSummary(reader.GetString(0), reader.GetString(1), Long(reader, 2), Long(reader, 3), Long(reader, 4),
                await reader.IsDBNullAsync(5, cancellationToken) ? null : Long(reader, 5), Long(reader, 6), Long(reader, 7)));
        }
        return list;
    }

    public async Task<IReadOnlyList<AlertTally>> TallyAlertsAsync(DateTimeOffset from, DateTimeOffset to, IReadOnlyCollection<string>? agents, bool byPolicy,
        CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        var (fromMicros, toMicros) = (Micros.From(from), Micros.From(to));
        // The whole hours of the range, as the count rollup keeps them.
        var firstHour = -CountRollup.HourOf(-fromMicros);
        var endHour = CountRollup.HourOf(toMicros);
        if (byPolicy || firstHour >= endHour)
        {
            return await TallyRawAsync(connection, fromMicros, toMicros, agents, cancellationToken);
        }
        var counts = new Dictionary<(string Agent, int Level, string State), long>();
        void Count(string agent, int level, string state, long n) => counts[(agent, level, state)] = counts.GetValueOrDefault((agent, level, state)) + n;
        // The partial hours at either end, alert by alert.
        foreach (var (f, t) in new[] { (fromMicros, firstHour * CountRollup.HourMicros), (endHour * CountRollup.HourMicros, toMicros) }.Where(r => r.Item1 < r.Item2))
        {
            foreach (var row in await TallyRawAsync(connection, f, t, agents, cancellationToken))
            {
                Count(row.AgentId, row.Level, row.State, row.Count);
            }
        }
        // The whole hours: every alert from the rollup, less those reviewed into another state (few, by an index).
        await using (var command = Command(connection, null, ""))
        {
            command.CommandText = $"SELECT agent_id, level, sum(n) FROM {RollupSource("alert_counts")} WHERE hour >= @h0 AND hour < @h1{AgentFilter(command, "agent_id", agents)} GROUP BY agent_id, level";
            Add(command, "h0", firstHour);
            Add(command, "h1", endHour);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                Count(reader.GetString(0), (int)Long(reader, 1), "new", Long(reader, 2));
            }
        }
        await using (var command = Command(connection, null, ""))
        {
            command.CommandText = $"""
                SELECT a.agent_id, a.level, r.state, count(*) FROM alert_reviews r JOIN alerts a ON a.alert_id = r.alert_id
                WHERE a.observed_at >= @from AND a.observed_at < @to AND r.state <> 'new'{AgentFilter(command, "a.agent_id", agents)}
                GROUP BY a.agent_id, a.level, r.state
                """;
            Add(command, "from", TimeValue(firstHour * CountRollup.HourMicros));
            Add(command, "to", TimeValue(endHour * CountRollup.HourMicros));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var (agent, level, state, n) = (reader.GetString(0), (int)Long(reader, 1), reader.GetString(2), Long(reader, 3));
                Count(agent, level, state, n);
                Count(agent, level, "new", -n);
            }
        }
        return [.. counts.Where(c => c.Value != 0).Select(c => new AlertTally(c.Key.Agent, null, c.Key.Level, c.Key.State, c.Value))];
    }

    private async Task<IReadOnlyList<AlertTally>> TallyRawAsync(DbConnection connection, long fromMicros, long toMicros, IReadOnlyCollection<string>? agents,
        CancellationToken cancellationToken)
    {
        await using var command = Command(connection, null, "");
        command.CommandText = $"""
            SELECT a.agent_id, a.policy, a.level, COALESCE(r.state, 'new') AS state, count(*)
            FROM alerts a LEFT JOIN alert_reviews r ON r.alert_id = a.alert_id
            WHERE a.observed_at >= @from AND a.observed_at < @to{AgentFilter(command, "a.agent_id", agents)}
            GROUP BY a.agent_id, a.policy, a.level, COALESCE(r.state, 'new')
            """;
        Add(command, "from", TimeValue(fromMicros));
        Add(command, "to", TimeValue(toMicros));
        var list = new List<AlertTally>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new AlertTally(reader.GetString(0), await reader.IsDBNullAsync(1, cancellationToken) ? null : reader.GetString(1), (int)Long(reader, 2), reader.GetString(3), Long(reader, 4)));
        }
        return list;
    }

    public async Task<IReadOnlyList<UnreviewedAlertRow>> UnreviewedAlertsAsync(DateTimeOffset from, DateTimeOffset to, int minLevel, int perAgent,
        IReadOnlyCollection<string>? agents, CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, "");
        const string Columns = "a.agent_id, a.policy, a.observed_at, a.alert_id, a.path, a.level, a.rule_id, a.kind";
        const string Unreviewed = """
            FROM alerts a LEFT JOIN alert_reviews r ON r.alert_id = a.alert_id
            WHERE a.observed_at >= @from AND a.observed_at < @to AND a.level >= @minl AND (r.state IS NULL OR r.state = 'new')
            """;
        if (agents is null)
        {
            command.CommandText = $"""
                SELECT agent_id, policy, observed_at, alert_id, path, level, rule_id, kind FROM (
                    SELECT {Columns}, ROW_NUMBER() OVER (PARTITION BY a.agent_id ORDER BY a.observed_at DESC, a.alert_id DESC) AS rn
                    {Unreviewed}) x
                WHERE rn <= @cap
                ORDER BY agent_id, observed_at DESC, alert_id DESC
                """;
        }
        else
        {
            // One index range per agent (agent, time), newest first, stopping at the cap: a page of agents reads a few
            // hundred rows where the window over the whole range reads every high alert of the fleet.
            var parts = agents.Select((agent, i) =>
            {
                Add(command, "ag" + i, agent);
                return $"SELECT * FROM (SELECT {Columns} {Unreviewed} AND a.agent_id = @ag{i} ORDER BY a.observed_at DESC, a.alert_id DESC LIMIT @cap) u{i}";
            }).ToList();
            if (parts.Count == 0)
            {
                return [];
            }
            command.CommandText = string.Join("\nUNION ALL\n", parts);
        }
        Add(command, "from", TimeValue(Micros.From(from)));
        Add(command, "to", TimeValue(Micros.From(to)));
        Add(command, "minl", minLevel);
        Add(command, "cap", perAgent);
        var list = new List<UnreviewedAlertRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new UnreviewedAlertRow(reader.GetString(0), await reader.IsDBNullAsync(1, cancellationToken) ? null : reader.GetString(1), ReadTime(reader, 2), reader.GetString(3),
                reader.GetString(4), (int)Long(reader, 5), reader.GetString(6), reader.GetString(7)));
        }
        return list;
    }

    /// <summary>" AND column IN (...)" with a parameter per agent, for a page of agents; nothing for all agents.</summary>
    private static string AgentFilter(DbCommand command, string column, IReadOnlyCollection<string>? agents)
    {
        if (agents is null)
        {
            return "";
        }
        if (agents.Count == 0)
        {
            return " AND 1=0";
        }
        var names = agents.Select((agent, i) =>
        {
            Add(command, "ag" + i, agent);
            return "@ag" + i;
        }).ToList();
        return $" AND {column} IN ({string.Join(", ", names)})";
    }

    public async Task<long> RemoveScansBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, "DELETE FROM scans WHERE finished_at < @cut");
        Add(command, "cut", TimeValue(Micros.From(cutoff)));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static long Long(DbDataReader reader, int ordinal) =>
        Convert.ToInt64(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);
}

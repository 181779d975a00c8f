using Npgsql;

namespace Fim.Manager.Store;

/// <summary>
/// The PostgreSQL side of <see cref="CountRollup"/>. A batch does not upsert its counts into <c>alert_counts</c> and
/// <c>alert_counts_fleet</c>: it appends them, inside its own transaction, as one row of arrays to
/// <c>alert_count_deltas</c>, and <see cref="FoldAsync"/> later moves every delta into both rollups in one transaction.
/// </summary>
/// <remarks>
/// Why: a batch of 1,000 alerts from 1,000 agents touches about as many per-agent rollup rows, and upserting them cost
/// as much PostgreSQL CPU per alert as two of the alert indexes (the ingest profile: 12.6 of 47.6 us), and concurrent
/// writers queued on the same rows. A fold sums the deltas of many batches first, so a current hour's row is updated
/// once per fold instead of once per batch. Counts stay exact: a delta commits with its alerts, a fold deletes the
/// deltas it adds in the same transaction (a concurrent fold skips rows the other deleted), and every count reads the
/// rollups together with the deltas not yet folded (<see cref="AgentSource"/>, <see cref="FleetSource"/>).
/// </remarks>
public static class PostgresRollups
{
    public const string CreateDeltas = """
        CREATE TABLE alert_count_deltas (
            hours bigint[] NOT NULL,
            levels smallint[] NOT NULL,
            rule_ids text[] NOT NULL,
            agent_ids text[] NOT NULL,
            namespaces text[] NOT NULL,
            counts bigint[] NOT NULL)
        """;

    private const string Unnested =
        "alert_count_deltas d, unnest(d.hours, d.levels, d.rule_ids, d.agent_ids, d.namespaces, d.counts) AS u(hour, level, rule_id, agent_id, namespace, n)";

    /// <summary>What a count reads for <c>alert_counts</c>: the folded counts and the deltas not yet folded.</summary>
    public const string AgentSource =
        "(SELECT hour, level, rule_id, agent_id, namespace, n FROM alert_counts UNION ALL SELECT u.hour, u.level, u.rule_id, u.agent_id, u.namespace, u.n FROM "
        + Unnested + ") AS alert_counts";

    /// <summary>What a count reads for <c>alert_counts_fleet</c>.</summary>
    public const string FleetSource =
        "(SELECT hour, level, rule_id, namespace, n FROM alert_counts_fleet UNION ALL SELECT u.hour, u.level, u.rule_id, u.namespace, u.n FROM "
        + Unnested + ") AS alert_counts_fleet";

    /// <summary>Appends the inserted alerts' per-agent counts as one delta row, in the batch's transaction.</summary>
    public static async Task AddAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<StoredAlert> inserted, CancellationToken cancellationToken)
    {
        if (inserted.Count == 0)
        {
            return;
        }
        var (agents, _) = CountRollup.Inserted(inserted);
        var (hours, levels, rules, agentIds, namespaces, counts) = (new long[agents.Length], new short[agents.Length], new string[agents.Length],
            new string[agents.Length], new string[agents.Length], new long[agents.Length]);
        for (var i = 0; i < agents.Length; i++)
        {
            var (k, n) = agents[i];
            (hours[i], levels[i], rules[i], agentIds[i], namespaces[i], counts[i]) = (k.Hour, (short)k.Level, k.RuleId, k.AgentId, k.Namespace, n);
        }
        await using var add = new NpgsqlCommand(
            "INSERT INTO alert_count_deltas VALUES ($1::bigint[], $2::smallint[], $3::text[], $4::text[], $5::text[], $6::bigint[])", connection, tx);
        foreach (var column in (object[])[hours, levels, rules, agentIds, namespaces, counts])
        {
            add.Parameters.Add(new NpgsqlParameter { Value = column });
        }
        await add.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Moves every delta into both rollups: one statement, so in one transaction (or in <paramref name="tx"/>). Keys are
    /// upserted in one order, so folds of two managers do not deadlock; the rows one deleted the other skips.
    /// </summary>
    public static async Task<int> FoldAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, CancellationToken cancellationToken)
    {
        await using var fold = new NpgsqlCommand("""
            WITH taken AS (DELETE FROM alert_count_deltas RETURNING *),
            d AS (SELECT u.hour, u.level, u.rule_id, u.agent_id, u.namespace, sum(u.n)::bigint AS n
                FROM taken d, unnest(d.hours, d.levels, d.rule_ids, d.agent_ids, d.namespaces, d.counts) AS u(hour, level, rule_id, agent_id, namespace, n)
                GROUP BY 1, 2, 3, 4, 5),
            a AS (INSERT INTO alert_counts (hour, level, rule_id, agent_id, namespace, n) SELECT * FROM d ORDER BY 1, 2, 3, 4, 5
                ON CONFLICT (hour, level, rule_id, agent_id, namespace) DO UPDATE SET n = alert_counts.n + EXCLUDED.n),
            f AS (INSERT INTO alert_counts_fleet (hour, level, rule_id, namespace, n)
                SELECT hour, level, rule_id, namespace, sum(n)::bigint FROM d GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                ON CONFLICT (hour, level, rule_id, namespace) DO UPDATE SET n = alert_counts_fleet.n + EXCLUDED.n)
            SELECT count(*)::int FROM taken
            """, connection, tx);
        return (int)(await fold.ExecuteScalarAsync(cancellationToken))!;
    }
}

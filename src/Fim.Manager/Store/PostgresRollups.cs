using Npgsql;

namespace Fim.Manager.Store;

/// <summary>
/// The PostgreSQL side of <see cref="CountRollup"/>: adds a batch's inserted alerts to <c>alert_counts</c> and
/// <c>alert_counts_fleet</c> inside the batch's transaction (public so the benchmark can time it apart from the COPY).
/// </summary>
public static class PostgresRollups
{
    /// <summary>Adds the inserted alerts to both rollups: one upsert each, keys in one order so concurrent batches do not deadlock.</summary>
    public static async Task AddAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<StoredAlert> inserted, CancellationToken cancellationToken)
    {
        if (inserted.Count == 0)
        {
            return;
        }
        var (agents, fleet) = CountRollup.Inserted(inserted);
        await using var batch = new NpgsqlBatch(connection, tx);
        var up = new NpgsqlBatchCommand("""
            INSERT INTO alert_counts (hour, level, rule_id, agent_id, namespace, n)
            SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::text[], $5::text[], $6::bigint[])
            ON CONFLICT (hour, level, rule_id, agent_id, namespace) DO UPDATE SET n = alert_counts.n + EXCLUDED.n
            """);
        var (hours, levels, rules, agentIds, namespaces, counts) = (new long[agents.Length], new short[agents.Length], new string[agents.Length],
            new string[agents.Length], new string[agents.Length], new long[agents.Length]);
        for (var i = 0; i < agents.Length; i++)
        {
            var (k, n) = agents[i];
            (hours[i], levels[i], rules[i], agentIds[i], namespaces[i], counts[i]) = (k.Hour, (short)k.Level, k.RuleId, k.AgentId, k.Namespace, n);
        }
        foreach (var column in (object[])[hours, levels, rules, agentIds, namespaces, counts])
        {
            up.Parameters.Add(new NpgsqlParameter { Value = column });
        }
        batch.BatchCommands.Add(up);
        var fl = new NpgsqlBatchCommand("""
            INSERT INTO alert_counts_fleet (hour, level, rule_id, namespace, n)
            SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::text[], $5::bigint[])
            ON CONFLICT (hour, level, rule_id, namespace) DO UPDATE SET n = alert_counts_fleet.n + EXCLUDED.n
            """);
        var (fHours, fLevels, fRules, fNamespaces, fCounts) = (new long[fleet.Length], new short[fleet.Length], new string[fleet.Length],
            new string[fleet.Length], new long[fleet.Length]);
        for (var i = 0; i < fleet.Length; i++)
        {
            var (k, n) = fleet[i];
            (fHours[i], fLevels[i], fRules[i], fNamespaces[i], fCounts[i]) = (k.Hour, (short)k.Level, k.RuleId, k.Namespace, n);
        }
        foreach (var column in (object[])[fHours, fLevels, fRules, fNamespaces, fCounts])
        {
            fl.Parameters.Add(new NpgsqlParameter { Value = column });
        }
        batch.BatchCommands.Add(fl);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}

using System.Data.Common;
using System.Text;

namespace Fim.Manager.Store;

/// <summary>Reviews (alert_reviews, migration 2): the upserts, the review-state filter and the reviews of a page.</summary>
public abstract partial class SqlAlertStore : IAlertReviews
{
    private const string Upsert = " ON CONFLICT (alert_id) DO UPDATE SET state = excluded.state, reviewer = excluded.reviewer, "
        + "reviewed_at = excluded.reviewed_at, comment = excluded.comment";

    public async Task<IReadOnlyList<AlertRow>> GetAlertsAsync(IReadOnlyList<string> alertIds, CancellationToken cancellationToken)
    {
        if (alertIds.Count == 0)
        {
            return [];
        }
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT observed_at, alert_id, stream_seq, stored_at, body FROM alerts WHERE alert_id IN ({IdList(command, alertIds)})";
        var rows = new List<AlertRow>(alertIds.Count);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new AlertRow(ReadTime(reader, 0), reader.GetString(1), reader.GetInt64(2), ReadTime(reader, 3), (byte[])reader.GetValue(4)));
            }
        }
        return await WithReviewsAsync(connection, rows, cancellationToken);
    }

    public async Task<long> ReviewAsync(IReadOnlyList<string> alertIds, StoredReview review, CancellationToken cancellationToken)
    {
        if (alertIds.Count == 0)
        {
            return 0;
        }
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var ids = IdList(command, alertIds);
        AddReview(command, review);
        // DISTINCT: PostgreSQL refuses an upsert that touches one row twice. WHERE before ON CONFLICT: SQLite's parser needs it.
        command.CommandText = "INSERT INTO alert_reviews (alert_id, state, reviewer, reviewed_at, comment) "
            + $"SELECT DISTINCT alert_id, @rv_state, @rv_reviewer, @rv_at, CAST(@rv_comment AS TEXT) FROM alerts WHERE alert_id IN ({ids})" + Upsert;
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<long> ReviewMatchingAsync(AlertQuery query, StoredReview review, CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var where = Where(query with { After = null }, command, out var impossible);
        if (impossible)
        {
            return 0;
        }
        AddReview(command, review);
        command.CommandText = "INSERT INTO alert_reviews (alert_id, state, reviewer, reviewed_at, comment) "
            + $"SELECT DISTINCT alert_id, @rv_state, @rv_reviewer, @rv_at, CAST(@rv_comment AS TEXT) FROM alerts WHERE {where}" + Upsert;
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>"new" is the absence of another state: no review row, or one set back to new.</summary>
    private static void ReviewStateCondition(string? state, DbCommand command, StringBuilder where)
    {
        if (state is null)
        {
            return;
        }
        if (state == ReviewStates.New)
        {
            where.Append(" AND NOT EXISTS (SELECT 1 FROM alert_reviews r WHERE r.alert_id = alerts.alert_id AND r.state <> 'new')");
            return;
        }
        Add(command, "rstate", state);
        where.Append(" AND EXISTS (SELECT 1 FROM alert_reviews r WHERE r.alert_id = alerts.alert_id AND r.state = @rstate)");
    }

    /// <summary>The rows with their reviews, read in one query for the page (so the search itself stays a plain index scan).</summary>
    private async Task<IReadOnlyList<AlertRow>> WithReviewsAsync(DbConnection connection, List<AlertRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return rows;
        }
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT alert_id, state, reviewer, reviewed_at, comment FROM alert_reviews WHERE alert_id IN ("
            + IdList(command, [.. rows.Select(r => r.AlertId).Distinct(StringComparer.Ordinal)]) + ")";
        var reviews = new Dictionary<string, StoredReview>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                reviews[reader.GetString(0)] = new StoredReview(reader.GetString(1), reader.GetString(2), ReadTime(reader, 3),
                    await reader.IsDBNullAsync(4, cancellationToken) ? null : reader.GetString(4));
            }
        }
        if (reviews.Count == 0)
        {
            return rows;
        }
        for (var i = 0; i < rows.Count; i++)
        {
            if (reviews.TryGetValue(rows[i].AlertId, out var review))
            {
                rows[i] = rows[i] with { Review = review };
            }
        }
        return rows;
    }

    /// <summary>Retention: reviews whose alert is gone (a dropped partition, deleted rows) go too.</summary>
    private async Task DeleteOrphanReviewsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, null,
            "DELETE FROM alert_reviews WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.alert_id = alert_reviews.alert_id)", cancellationToken);
    }

    private void AddReview(DbCommand command, StoredReview review)
    {
        Add(command, "rv_state", review.State);
        Add(command, "rv_reviewer", review.Reviewer);
        Add(command, "rv_at", TimeValue(review.ReviewedAtMicros));
        Add(command, "rv_comment", (object?)review.Comment ?? DBNull.Value);
    }

    /// <summary>"@id0, @id1, ..." with a parameter each (ids are at most a page, 1000).</summary>
    private static string IdList(DbCommand command, IReadOnlyList<string> ids)
    {
        var names = new StringBuilder();
        for (var i = 0; i < ids.Count; i++)
        {
            Add(command, "id" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), ids[i]);
            names.Append(i == 0 ? "" : ", ").Append("@id").Append(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return names.ToString();
    }
}

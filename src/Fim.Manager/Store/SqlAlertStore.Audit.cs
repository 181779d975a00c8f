using System.Data.Common;
using System.Globalization;
using System.Text;

namespace Fim.Manager.Store;

/// <summary>The audit log (migration 3): appends serialised across writers, pages, and the whole chain for verification.</summary>
public abstract partial class SqlAlertStore : IAuditStore
{
    private const string AuditColumns = "seq, at, actor, auth_method, action, target, detail, outcome, prev_hash, hash";

    /// <summary>Begins an append's transaction so that concurrent appenders (other managers too) wait for each other.</summary>
    protected virtual Task<DbTransaction> BeginAuditAppendAsync(DbConnection connection, CancellationToken cancellationToken) =>
        BeginMigrationAsync(connection, cancellationToken);

    public async Task<AuditRecord> AppendAuditAsync(AuditDraft entry, CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        entry = AuditChain.Clean(entry);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await BeginAuditAppendAsync(connection, cancellationToken);
        long last = 0;
        var previous = AuditChain.Genesis;
        await using (var read = Command(connection, tx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                last = reader.GetInt64(0);
                previous = reader.GetString(1);
            }
        }
        var sequence = last + 1;
        var record = new AuditRecord(sequence, entry.AtMicros, entry.Actor, entry.AuthMethod, entry.Action, entry.Target, entry.Detail,
            entry.Outcome, previous, AuditChain.Hash(previous, sequence, entry));
        await using (var insert = Command(connection, tx,
            $"INSERT INTO audit_log ({AuditColumns}) VALUES (@seq, @at, @actor, @auth, @action, @target, @detail, @outcome, @prev, @hash)"))
        {
            Add(insert, "seq", record.Sequence);
            Add(insert, "at", TimeValue(record.AtMicros));
            Add(insert, "actor", record.Actor);
            Add(insert, "auth", record.AuthMethod);
            Add(insert, "action", record.Action);
            Add(insert, "target", record.Target);
            Add(insert, "detail", record.Detail);
            Add(insert, "outcome", record.Outcome);
            Add(insert, "prev", record.PreviousHash);
            Add(insert, "hash", record.Hash);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return record;
    }

    public async Task<AuditPage> ListAuditAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var where = new StringBuilder("1=1");
        if (query.Since is { } since)
        {
            Add(command, "since", TimeValue(Micros.From(since)));
            where.Append(" AND at >= @since");
        }
        if (query.Until is { } until)
        {
            Add(command, "until", TimeValue(Micros.From(until)));
            where.Append(" AND at < @until");
        }
        if (query.Actor is { } actor)
        {
            Add(command, "actor", actor);
            where.Append(" AND actor = @actor");
        }
        if (query.Actions is { } actions)
        {
            if (actions.Count == 0)
            {
                return new AuditPage([], null);
            }
            var names = new List<string>();
            for (var i = 0; i < actions.Count; i++)
            {
                var name = "act" + i.ToString(CultureInfo.InvariantCulture);
                Add(command, name, actions[i]);
                names.Add("@" + name);
            }
            where.Append(" AND action IN (").Append(string.Join(", ", names)).Append(')');
        }
        if (query.BeforeSequence is { } before)
        {
            Add(command, "before", before);
            where.Append(" AND seq < @before");
        }
        Add(command, "lim", query.Limit + 1);
        command.CommandText = $"SELECT {AuditColumns} FROM audit_log WHERE {where} ORDER BY seq DESC LIMIT @lim";
        var rows = await ReadAuditAsync(command, cancellationToken);
        if (rows.Count <= query.Limit)
        {
            return new AuditPage(rows, null);
        }
        rows.RemoveAt(rows.Count - 1);
        return new AuditPage(rows, rows[^1].Sequence);
    }

    public async Task<IReadOnlyList<AuditRecord>> ReadAuditChainAsync(CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, $"SELECT {AuditColumns} FROM audit_log ORDER BY seq");
        return await ReadAuditAsync(command, cancellationToken);
    }

    private async Task<List<AuditRecord>> ReadAuditAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<AuditRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new AuditRecord(reader.GetInt64(0), ReadTime(reader, 1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8), reader.GetString(9)));
        }
        return rows;
    }
}

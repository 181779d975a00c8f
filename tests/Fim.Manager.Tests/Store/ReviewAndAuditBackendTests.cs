using Fim.Manager.Store;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Fim.Manager.Tests.Store;

public sealed class SqliteReviewAndAuditTests(SqliteStoreFixture f) : ReviewAndAuditContract, IClassFixture<SqliteStoreFixture>
{
    protected override IAlertStore Store => f.Store;

    protected override Task<AuditDatabase> NewDatabaseAsync()
    {
        var file = Path.Combine(f.Directory, $"audit-{Guid.NewGuid():N}.db");
        async Task Execute(string sql)
        {
            await using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }
        return Task.FromResult(new AuditDatabase(new SqliteAlertStore(file), () => new SqliteAlertStore(file), Execute,
            sql => Execute("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; " + sql)));
    }
}

public sealed class PostgresReviewAndAuditTests(PostgresStoreFixture f) : ReviewAndAuditContract, IClassFixture<PostgresStoreFixture>
{
    protected override IAlertStore Store => f.Store;

    protected override async Task<AuditDatabase> NewDatabaseAsync()
    {
        var connectionString = await f.Server.CreateDatabaseAsync("audit_" + Guid.NewGuid().ToString("N")[..10]);
        async Task Execute(string sql)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
        // The table's owner can switch its triggers off: the chain, not the trigger, is what catches that.
        return new AuditDatabase(new PostgresAlertStore(connectionString), () => new PostgresAlertStore(connectionString), Execute,
            sql => Execute("ALTER TABLE audit_log DISABLE TRIGGER USER; " + sql));
    }
}

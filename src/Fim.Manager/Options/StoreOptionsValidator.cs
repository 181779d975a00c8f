using Fim.Manager.Store;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Options;

internal sealed class StoreOptionsValidator : IValidateOptions<StoreOptions>
{
    public ValidateOptionsResult Validate(string? name, StoreOptions o)
    {
        var p = new OptionProblems(StoreOptions.Section);
        p.Require(o.Backend is StoreOptions.Sqlite or StoreOptions.Postgres, "Backend", $"must be '{StoreOptions.Sqlite}' or '{StoreOptions.Postgres}', got '{o.Backend}'");
        if (o.Backend == StoreOptions.Postgres)
        {
            p.Require(!string.IsNullOrWhiteSpace(o.ConnectionString) || !string.IsNullOrWhiteSpace(o.Host), "ConnectionString",
                "is required with backend postgres (set Fim__Store__ConnectionString from a Secret, or Fim__Store__Host and the other parts)");
            if (!string.IsNullOrWhiteSpace(o.ConnectionString))
            {
                try
                {
                    _ = new Npgsql.NpgsqlConnectionStringBuilder(o.ConnectionString);
                }
                catch (ArgumentException)
                {
                    // Not the parser's message: it may quote the value, password included.
                    p.Add($"{StoreOptions.Section}:ConnectionString: is not a valid PostgreSQL connection string");
                }
            }
            if (o.Port is { } port)
            {
                p.Range(port, 1, 65_535, "Port");
            }
            p.Require(o.SslMode is null || PostgresConnection.SslModes.ContainsKey(o.SslMode), "SslMode",
                $"must be one of {string.Join(", ", PostgresConnection.SslModes.Keys)}, got '{o.SslMode}'");
            if (o.RootCertificateFile is { } ca)
            {
                p.Require(Path.IsPathRooted(ca) && File.Exists(ca), "RootCertificateFile", $"must be an absolute path to an existing file, got '{ca}'");
            }
        }
        else
        {
            p.Require(Path.IsPathRooted(o.DataDirectory), "DataDirectory", $"must be an absolute path, got '{o.DataDirectory}'");
        }
        p.Range(o.RetentionDays, 1, 36_500, "RetentionDays");
        p.Range(o.BatchSize, 1, 10_000, "BatchSize");
        p.Require(o.BatchDelay >= TimeSpan.Zero && o.BatchDelay <= TimeSpan.FromSeconds(5), "BatchDelay", $"must be 0..5 s, got {o.BatchDelay}");
        p.Require(o.AckWait >= TimeSpan.FromSeconds(1), "AckWait", $"must be at least 1 s, got {o.AckWait}");
        p.Positive(o.MaintenanceInterval, "MaintenanceInterval");
        p.Require(o.UnreviewedInterval >= TimeSpan.Zero, "UnreviewedInterval", $"must be 0 (never) or positive, got {o.UnreviewedInterval}");
        return p.Result();
    }
}

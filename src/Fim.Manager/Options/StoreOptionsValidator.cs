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
            p.Require(!string.IsNullOrWhiteSpace(o.ConnectionString), "ConnectionString", "is required with backend postgres (set Fim__Store__ConnectionString from a Secret)");
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
        return p.Result();
    }
}

using Fim.Manager.Options;

namespace Fim.Manager.Tests.Store;

public sealed class StoreOptionsTests
{
    [Fact]
    public void Every_bad_store_setting_is_named_and_the_connection_string_is_never_echoed()
    {
        var result = new StoreOptionsValidator().Validate(null, new StoreOptions { Backend = "mysql", RetentionDays = 0, BatchSize = 0, DataDirectory = "relative" });
        Assert.Contains("Fim:Store:Backend: must be 'sqlite' or 'postgres', got 'mysql'", result.Failures!);
        Assert.Contains(result.Failures!, f => f.StartsWith("Fim:Store:RetentionDays: must be 1..36500", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Fim:Store:BatchSize:", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Fim:Store:DataDirectory: must be an absolute path", StringComparison.Ordinal));

        var missing = new StoreOptionsValidator().Validate(null, new StoreOptions { Backend = "postgres" });
        Assert.Contains(missing.Failures!, f => f.StartsWith("Fim:Store:ConnectionString: is required", StringComparison.Ordinal));

        var bad = new StoreOptionsValidator().Validate(null, new StoreOptions { Backend = "postgres", ConnectionString = "Host=db;Password=hunter2;Bogus Key=1" });
        Assert.Equal(["Fim:Store:ConnectionString: is not a valid PostgreSQL connection string"], bad.Failures);

        Assert.True(new StoreOptionsValidator().Validate(null, new StoreOptions()).Succeeded);
        Assert.Equal(400, new StoreOptions().RetentionDays);
    }
}

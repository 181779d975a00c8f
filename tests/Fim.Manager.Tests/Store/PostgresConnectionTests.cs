using Fim.Manager.Options;
using Fim.Manager.Store;
using Npgsql;

namespace Fim.Manager.Tests.Store;

/// <summary>The parts a FimManagerPool renders apart (a CloudNativePG app Secret's keys, TLS) reach the connection.</summary>
public sealed class PostgresConnectionTests
{
    [Fact]
    public void Parts_set_apart_override_the_connection_string_and_tls_settings_reach_npgsql()
    {
        var ca = Path.GetTempFileName();
        try
        {
            var o = new StoreOptions
            {
                Backend = StoreOptions.Postgres,
                ConnectionString = "Host=old;Database=old;Username=old;Timeout=7",
                Host = "fim-db-rw",
                Port = 6543,
                Database = "app",
                Username = "app",
                Password = "s3cret",
                SslMode = "verify-full",
                RootCertificateFile = ca,
            };
            Assert.True(new StoreOptionsValidator().Validate(null, o).Succeeded);
            var b = new NpgsqlConnectionStringBuilder(PostgresConnection.Build(o));
            Assert.Equal(("fim-db-rw", 6543, "app", "app", "s3cret"), (b.Host, b.Port, b.Database, b.Username, b.Password));
            Assert.Equal((SslMode.VerifyFull, ca, 7), (b.SslMode, b.RootCertificate, b.Timeout));

            // A CloudNativePG Secret has no connection string: the host is enough.
            Assert.True(new StoreOptionsValidator().Validate(null, new StoreOptions { Backend = StoreOptions.Postgres, Host = "db" }).Succeeded);
        }
        finally
        {
            File.Delete(ca);
        }
    }

    [Fact]
    public void Bad_tls_and_port_settings_are_named()
    {
        var r = new StoreOptionsValidator().Validate(null, new StoreOptions
        {
            Backend = StoreOptions.Postgres,
            Host = "db",
            Port = 0,
            SslMode = "VerifyFull",
            RootCertificateFile = "/nonexistent/ca.crt",
        });
        Assert.Contains(r.Failures!, f => f.StartsWith("Fim:Store:Port: must be 1..65535", StringComparison.Ordinal));
        Assert.Contains(r.Failures!, f => f.StartsWith("Fim:Store:SslMode: must be one of disable, allow, prefer, require, verify-ca, verify-full", StringComparison.Ordinal));
        Assert.Contains(r.Failures!, f => f.StartsWith("Fim:Store:RootCertificateFile: must be an absolute path to an existing file", StringComparison.Ordinal));
    }
}

using Fim.Manager.Options;
using Npgsql;

namespace Fim.Manager.Store;

/// <summary>
/// The PostgreSQL connection string the store opens: Fim:Store:ConnectionString with the parts set apart (host, port,
/// database, username, password, TLS mode, CA file) written over it. Kubernetes gives these from Secret keys one by one
/// (a CloudNativePG app Secret has host, port, dbname, username and password but no Npgsql connection string).
/// </summary>
public static class PostgresConnection
{
    /// <summary>libpq's sslmode names, as the operator's CRD and the chart take them, to Npgsql's modes.</summary>
    public static readonly IReadOnlyDictionary<string, SslMode> SslModes = new Dictionary<string, SslMode>(StringComparer.Ordinal)
    {
        ["disable"] = SslMode.Disable,
        ["allow"] = SslMode.Allow,
        ["prefer"] = SslMode.Prefer,
        ["require"] = SslMode.Require,
        ["verify-ca"] = SslMode.VerifyCA,
        ["verify-full"] = SslMode.VerifyFull,
    };

    public static string Build(StoreOptions o)
    {
        var b = new NpgsqlConnectionStringBuilder(o.ConnectionString ?? "");
        if (!string.IsNullOrWhiteSpace(o.Host))
        {
            b.Host = o.Host;
        }
        if (o.Port is { } port)
        {
            b.Port = port;
        }
        if (!string.IsNullOrWhiteSpace(o.Database))
        {
            b.Database = o.Database;
        }
        if (!string.IsNullOrWhiteSpace(o.Username))
        {
            b.Username = o.Username;
        }
        if (!string.IsNullOrEmpty(o.Password))
        {
            b.Password = o.Password;
        }
        if (o.SslMode is { } mode)
        {
            b.SslMode = SslModes[mode];
        }
        if (!string.IsNullOrWhiteSpace(o.RootCertificateFile))
        {
            b.RootCertificate = o.RootCertificateFile;
        }
        return b.ConnectionString;
    }
}

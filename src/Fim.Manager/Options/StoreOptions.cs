namespace Fim.Manager.Options;

/// <summary>
/// The alert store (section Fim:Store): where the indexer writes alerts and the API searches them. SQLite is the
/// embedded default (one file under <see cref="DataDirectory"/>, one indexing manager); PostgreSQL serves any number.
/// </summary>
public sealed class StoreOptions
{
    public const string Section = "Fim:Store";
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary>sqlite or postgres.</summary>
    public string Backend { get; set; } = Sqlite;
    /// <summary>Where the SQLite file (alerts.db) lives.</summary>
    public string DataDirectory { get; set; } = "/var/lib/fim-manager";
    /// <summary>
    /// The PostgreSQL connection string (backend postgres). Comes from a Secret (Fim__Store__ConnectionString); it is
    /// never logged.
    /// </summary>
    public string? ConnectionString { get; set; }
    /// <summary>Alerts older than this many days are removed (PostgreSQL: whole monthly partitions). PCI DSS 10.5.1 asks for a year.</summary>
    public int RetentionDays { get; set; } = 400;
    /// <summary>Whether this manager runs the indexer (FIM_ALERTS to the store). With SQLite only the manager holding the file's lock does.</summary>
    public bool Indexer { get; set; } = true;
    /// <summary>
    /// Most alerts written in one transaction. A trickle is written as it comes (<see cref="BatchDelay"/>); a backlog or a
    /// flood fills batches, and on PostgreSQL two managers reached 28,000 alerts/s with batches of 1,000 and 38,000 with
    /// 5,000 (docs/store.md): the commit, the COPY's start and each batch's rollup row are paid per batch.
    /// </summary>
    public int BatchSize { get; set; } = 5000;
    /// <summary>How long the indexer waits for a batch to fill once it has one alert.</summary>
    public TimeSpan BatchDelay { get; set; } = TimeSpan.FromMilliseconds(20);
    /// <summary>How long JetStream waits for the indexer's ack before redelivering.</summary>
    public TimeSpan AckWait { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>How often retention and partition upkeep run.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromHours(1);
    /// <summary>How often indexing managers count unreviewed high-level alerts per agent into KV fim-unreviewed-alerts; 0 = never.</summary>
    public TimeSpan UnreviewedInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// PostgreSQL parts given apart from <see cref="ConnectionString"/> (a CloudNativePG app Secret's host, port, dbname,
    /// username and password keys; the operator renders them as Fim__Store__Host and so on): each set one overrides the
    /// same part of the connection string. The password is never logged.
    /// </summary>
    public string? Host { get; set; }
    public int? Port { get; set; }
    public string? Database { get; set; }
    public string? Username { get; set; }
    public string? Password { get; set; }
    /// <summary>TLS to PostgreSQL, libpq's names: disable, allow, prefer, require, verify-ca, verify-full.</summary>
    public string? SslMode { get; set; }
    /// <summary>CA certificate file (PEM) the server's certificate is verified against (verify-ca, verify-full).</summary>
    public string? RootCertificateFile { get; set; }

    public string SqlitePath => Path.Combine(DataDirectory, "alerts.db");
}

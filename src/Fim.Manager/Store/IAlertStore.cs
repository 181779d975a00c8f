namespace Fim.Manager.Store;

/// <summary>
/// Where alerts are kept for search: SQLite (embedded) or PostgreSQL. Inserts are idempotent by alert id; a batch is
/// one transaction, so when <see cref="InsertAsync"/> returns every row of it is durable, and when it throws none is.
/// The schema is migrated on first use.
/// </summary>
public interface IAlertStore : IAsyncDisposable
{
    /// <summary>"sqlite" or "postgres".</summary>
    string Backend { get; }

    /// <summary>Runs the migrations not yet applied (each once, in its own transaction). Every other call does it first.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>Stores the batch in one transaction; alerts already stored are skipped. Returns how many rows were new.</summary>
    Task<int> InsertAsync(IReadOnlyList<StoredAlert> alerts, CancellationToken cancellationToken);

    Task<AlertPage> SearchAsync(AlertQuery query, CancellationToken cancellationToken);

    Task<IReadOnlyList<CountRow>> CountAsync(CountQuery query, CancellationToken cancellationToken);

    /// <summary>Removes alerts observed before <paramref name="cutoff"/> (PostgreSQL: partitions wholly before it) and prepares partitions ahead.</summary>
    Task<long> MaintainAsync(DateTimeOffset cutoff, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Rows stored, and how many distinct alert ids (equal unless something is wrong): for tests and benchmarks.</summary>
    Task<(long Rows, long Distinct)> TallyAsync(CancellationToken cancellationToken);

    /// <summary>The schema versions applied, in order.</summary>
    Task<IReadOnlyList<int>> SchemaVersionsAsync(CancellationToken cancellationToken);
}

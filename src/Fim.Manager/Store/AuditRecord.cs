namespace Fim.Manager.Store;

/// <summary>A row to append to the audit log: everything but its place in the chain. Time in microseconds since the epoch.</summary>
public sealed record AuditDraft(long AtMicros, string Actor, string AuthMethod, string Action, string Target, string Detail, string Outcome);

/// <summary>An audit log row: <see cref="Hash"/> = SHA-256 over <see cref="PreviousHash"/> and the row's canonical encoding (<see cref="AuditChain"/>).</summary>
public sealed record AuditRecord(
    long Sequence,
    long AtMicros,
    string Actor,
    string AuthMethod,
    string Action,
    string Target,
    string Detail,
    string Outcome,
    string PreviousHash,
    string Hash)
{
    public AuditDraft Draft => new(AtMicros, Actor, AuthMethod, Action, Target, Detail, Outcome);
}

/// <summary>A page of the audit log, newest first. Null filters match everything.</summary>
public sealed record AuditQuery
{
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public string? Actor { get; init; }
    /// <summary>Any of these actions (whole method names).</summary>
    public IReadOnlyList<string>? Actions { get; init; }
    /// <summary>Continue with the rows before this sequence.</summary>
    public long? BeforeSequence { get; init; }
    public int Limit { get; init; } = 100;
}

/// <summary>Rows newest first; <see cref="Next"/> is the sequence to continue before, null on the last page.</summary>
public sealed record AuditPage(IReadOnlyList<AuditRecord> Entries, long? Next);

/// <summary>The last sequence and hash as kept outside the table, so rows deleted from the end are noticed.</summary>
public sealed record AuditCheckpoint(long Sequence, string Hash);

/// <summary>
/// The audit log (migration 3 on both backends): append-only and hash-chained. Appends are serialised across managers
/// (PostgreSQL: an advisory lock in the insert transaction; SQLite: BEGIN IMMEDIATE), so sequences have no gaps.
/// </summary>
public interface IAuditStore
{
    /// <summary>Appends one row after the last, in one transaction; returns it with its sequence and hash.</summary>
    Task<AuditRecord> AppendAuditAsync(AuditDraft entry, CancellationToken cancellationToken);

    Task<AuditPage> ListAuditAsync(AuditQuery query, CancellationToken cancellationToken);

    /// <summary>Every row in sequence order (for verification).</summary>
    Task<IReadOnlyList<AuditRecord>> ReadAuditChainAsync(CancellationToken cancellationToken);
}

/// <summary>Where the checkpoint lives (NATS KV on a manager); it only moves forward.</summary>
public interface IAuditCheckpoint
{
    Task<AuditCheckpoint?> ReadAsync(CancellationToken cancellationToken);

    /// <summary>Records <paramref name="checkpoint"/> unless a later one is there already.</summary>
    Task AdvanceAsync(AuditCheckpoint checkpoint, CancellationToken cancellationToken);
}

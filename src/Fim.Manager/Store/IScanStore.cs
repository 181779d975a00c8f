using Fim.Contracts;

namespace Fim.Manager.Store;

/// <summary>
/// The scan records agents publish (table scans, migration 4) and what the compliance report reads from the alert
/// store. Same database and migrations as <see cref="IAlertStore"/>; inserts are idempotent by scan id.
/// </summary>
public interface IScanStore
{
    /// <summary>Stores the records in one transaction; records already stored are skipped. Returns how many were new.</summary>
    Task<int> InsertScansAsync(IReadOnlyList<StoredScan> scans, CancellationToken cancellationToken);

    /// <summary>Scans finished in [since, until), newest first, a page of at most Limit with a keyset cursor.</summary>
    Task<ScanPage> SearchScansAsync(ScanQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Per agent and policy: the scans that finished in [from, to) and the longest gap between consecutive ones; only
    /// of <paramref name="agents"/> when given.
    /// </summary>
    Task<IReadOnlyList<ScanSummary>> SummarizeScansAsync(DateTimeOffset from, DateTimeOffset to, IReadOnlyCollection<string>? agents,
        CancellationToken cancellationToken);

    /// <summary>
    /// Alerts observed in [from, to), counted per agent, level and review state (no review row: new); only of
    /// <paramref name="agents"/> when given. Per policy too when <paramref name="byPolicy"/> (a caller whose grants name
    /// namespaces); otherwise the policy is null and the whole hours come from the count rollup less the reviewed
    /// alerts, so a month of a large fleet is not read alert by alert.
    /// </summary>
    Task<IReadOnlyList<AlertTally>> TallyAlertsAsync(DateTimeOffset from, DateTimeOffset to, IReadOnlyCollection<string>? agents, bool byPolicy,
        CancellationToken cancellationToken);

    /// <summary>
    /// Per agent, the newest <paramref name="perAgent"/> unreviewed (state new) alerts of at least <paramref name="minLevel"/>;
    /// only of <paramref name="agents"/> when given (then each agent's are read by its own index range).
    /// </summary>
    Task<IReadOnlyList<UnreviewedAlertRow>> UnreviewedAlertsAsync(DateTimeOffset from, DateTimeOffset to, int minLevel, int perAgent,
        IReadOnlyCollection<string>? agents, CancellationToken cancellationToken);

    /// <summary>Removes scans finished before <paramref name="cutoff"/>.</summary>
    Task<long> RemoveScansBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);
}

/// <summary>One scan record as stored: the record, where it came from in FIM_SCANS and its wire JSON.</summary>
public sealed record StoredScan(ScanRecord Record, long StreamSequence, long StoredAtMicros, byte[] Json);

public sealed record ScanQuery
{
    public string? AgentId { get; init; }
    public string? Policy { get; init; }
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public int Limit { get; init; } = 100;
    /// <summary>Continue after this (finished time, scan id).</summary>
    public AlertCursor? After { get; init; }
}

public sealed record ScanRow(long FinishedAtMicros, string ScanId, byte[] Json)
{
    public AlertCursor Cursor => new(FinishedAtMicros, ScanId);
}

public sealed record ScanPage(IReadOnlyList<ScanRow> Rows, AlertCursor? Next);

/// <summary>Scans of one policy on one agent in a range; gaps and times in microseconds.</summary>
public sealed record ScanSummary(string AgentId, string Policy, long Count, long FirstMicros, long LastMicros, long? LongestGapMicros, long ScheduleSeconds, long Errors);

public sealed record AlertTally(string AgentId, string? Policy, int Level, string State, long Count);

public sealed record UnreviewedAlertRow(string AgentId, string? Policy, long ObservedAtMicros, string AlertId, string Path, int Level, string RuleId, string Kind);

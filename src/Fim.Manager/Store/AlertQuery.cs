namespace Fim.Manager.Store;

/// <summary>How a path filter matches: the whole path, a prefix, or a glob (<see cref="PathPattern"/>).</summary>
public enum PathMatch
{
    Exact,
    Prefix,
    Glob,
}

/// <summary>A search over stored alerts. Null filters match everything; all filters are checked before they get here.</summary>
public sealed record AlertQuery
{
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public string? AgentId { get; init; }
    public string? Host { get; init; }
    public string? Path { get; init; }
    public PathMatch PathMatch { get; init; }
    public int? MinLevel { get; init; }
    public int? MaxLevel { get; init; }
    public string? RuleId { get; init; }
    public string? Kind { get; init; }
    /// <summary>scan or realtime (file changes), falco, prowler or json (security records), exactly.</summary>
    public string? Source { get; init; }
    /// <summary>The writer's executable (or process name) or user name.</summary>
    public string? Actor { get; init; }
    public string? Namespace { get; init; }
    public string? Pod { get; init; }
    /// <summary>Alerts whose labels (the agent's, as the alert carries them: at the time of the alert) match; null or empty for all.</summary>
    public Fim.Contracts.LabelSelector? Selector { get; init; }
    /// <summary>True: alerts a package update explains (package known and verified); false: every other alert.</summary>
    public bool? PackageUpdate { get; init; }
    /// <summary>Alerts of paths that belong to this package, exactly.</summary>
    public string? Package { get; init; }
    /// <summary>Alerts in this review state (<see cref="ReviewStates"/>); "new" also matches alerts nobody reviewed.</summary>
    public string? ReviewState { get; init; }
    /// <summary>Continue after this row (exclusive) in the query's order.</summary>
    public AlertCursor? After { get; init; }
    public bool OldestFirst { get; init; }
    public int Limit { get; init; } = 100;
}

/// <summary>A stored alert as a query returns it.</summary>
public sealed record AlertRow(long ObservedAtMicros, string AlertId, long StreamSequence, long StoredAtMicros, byte[] Json)
{
    /// <summary>Its review; null when nobody reviewed it.</summary>
    public StoredReview? Review { get; init; }

    public AlertCursor Cursor => new(ObservedAtMicros, AlertId);
}

/// <summary>A page of rows; <see cref="Next"/> continues after the last one, null when nothing more matched.</summary>
public sealed record AlertPage(IReadOnlyList<AlertRow> Rows, AlertCursor? Next);

/// <summary>What counts are grouped by, besides the time bucket.</summary>
public enum CountKey
{
    Level,
    Rule,
    Agent,
    Namespace,
}

/// <summary>Counts of the alerts <see cref="Filter"/> matches per <see cref="Bucket"/> (aligned to the Unix epoch) and key.</summary>
public sealed record CountQuery(AlertQuery Filter, CountKey Key, TimeSpan Bucket);

/// <summary>One group: the bucket's start, the key's value ("" for none) and how many alerts.</summary>
public sealed record CountRow(DateTimeOffset BucketStart, string Key, long Count);

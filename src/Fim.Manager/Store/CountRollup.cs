using System.Runtime.InteropServices;

namespace Fim.Manager.Store;

/// <summary>A row of the per-agent rollup <c>alert_counts</c>: alerts per (hour, level, rule, agent, namespace).</summary>
public readonly record struct RollupKey(long Hour, int Level, string RuleId, string AgentId, string Namespace);

/// <summary>A row of the fleet rollup <c>alert_counts_fleet</c>: the same without the agent, small enough to read whole for dashboards.</summary>
public readonly record struct FleetRollupKey(long Hour, int Level, string RuleId, string Namespace);

/// <summary>
/// The hourly counts that let <c>CountAlertsOverTime</c> answer without reading every alert (migration 5). Two tables:
/// <c>alert_counts</c> per agent (agent filters, counts by agent) and <c>alert_counts_fleet</c> without the agent
/// (fleet-wide dashboards: a week is ~1,000 rows however many agents there are, where the per-agent table holds one row
/// per agent-hour-level). Both change in the transaction that inserts or removes the alerts they count, by the rows
/// actually inserted or removed, so a redelivered alert never counts twice.
/// </summary>
public static class CountRollup
{
    public const long HourMicros = 3_600_000_000;
    private const long HourSeconds = 3600;

    /// <summary>The hour (since the epoch, floored) an alert observed at <paramref name="micros"/> counts in.</summary>
    public static long HourOf(long micros) => micros >= 0 ? micros / HourMicros : -((-micros + HourMicros - 1) / HourMicros);

    /// <summary>
    /// Per-agent and fleet deltas for these alerts, each counted <paramref name="sign"/> (+1 inserted, -1 removed), each
    /// table's keys sorted. Summed in hash maps and sorted once: a batch of 1,000 alerts has about as many per-agent keys,
    /// and this runs on the indexer's hot path.
    /// </summary>
    public static (KeyValuePair<RollupKey, long>[] Agents, KeyValuePair<FleetRollupKey, long>[] Fleet) Delta(
        IEnumerable<(long ObservedAtMicros, int Level, string RuleId, string AgentId, string? Namespace)> alerts, int sign)
    {
        var agents = new Dictionary<RollupKey, long>();
        var fleet = new Dictionary<FleetRollupKey, long>();
        foreach (var a in alerts)
        {
            var hour = HourOf(a.ObservedAtMicros);
            var ns = a.Namespace ?? "";
            CollectionsMarshal.GetValueRefOrAddDefault(agents, new RollupKey(hour, a.Level, a.RuleId, a.AgentId, ns), out _) += sign;
            CollectionsMarshal.GetValueRefOrAddDefault(fleet, new FleetRollupKey(hour, a.Level, a.RuleId, ns), out _) += sign;
        }
        var agentRows = agents.ToArray();
        Array.Sort(agentRows, static (x, y) => Compare(x.Key, y.Key));
        var fleetRows = fleet.ToArray();
        Array.Sort(fleetRows, static (x, y) => Compare(x.Key, y.Key));
        return (agentRows, fleetRows);
    }

    public static (KeyValuePair<RollupKey, long>[] Agents, KeyValuePair<FleetRollupKey, long>[] Fleet) Inserted(IEnumerable<StoredAlert> alerts) =>
        Delta(alerts.Select(a => (a.ObservedAtMicros, a.Level, a.RuleId, a.AgentId, a.Namespace)), +1);

    // Sorted so concurrent writers touch rollup rows in one order (no deadlock between two managers' batches).
    private static int Compare(RollupKey x, RollupKey y)
    {
        var c = x.Hour.CompareTo(y.Hour);
        c = c != 0 ? c : x.Level.CompareTo(y.Level);
        c = c != 0 ? c : string.CompareOrdinal(x.RuleId, y.RuleId);
        c = c != 0 ? c : string.CompareOrdinal(x.AgentId, y.AgentId);
        return c != 0 ? c : string.CompareOrdinal(x.Namespace, y.Namespace);
    }

    private static int Compare(FleetRollupKey x, FleetRollupKey y)
    {
        var c = x.Hour.CompareTo(y.Hour);
        c = c != 0 ? c : x.Level.CompareTo(y.Level);
        c = c != 0 ? c : string.CompareOrdinal(x.RuleId, y.RuleId);
        return c != 0 ? c : string.CompareOrdinal(x.Namespace, y.Namespace);
    }

    /// <summary>
    /// How a count query can use the rollup, or null when it cannot: its bucket must be whole hours and its filters only
    /// on rollup columns (time, agent, level, rule, non-empty namespace). The whole hours of the range come from the
    /// rollup; the partial hours at either end (<see cref="RollupPlan.RawBefore"/>, <see cref="RollupPlan.RawAfter"/>)
    /// from the alerts themselves, so any since/until is exact.
    /// </summary>
    public static RollupPlan? Plan(CountQuery query)
    {
        var f = query.Filter;
        // An allow-list: a filter added to AlertQuery later (as the review state was) falls back to the alerts by default.
        var others = f with { Since = null, Until = null, AgentId = null, MinLevel = null, MaxLevel = null, RuleId = null, Namespace = null };
        if (query.Bucket.Ticks <= 0 || query.Bucket.Ticks % TimeSpan.TicksPerHour != 0 || f.Namespace is ""
            || others != new AlertQuery { Limit = f.Limit, OldestFirst = f.OldestFirst, PathMatch = f.PathMatch })
        {
            return null;
        }
        long? since = f.Since is { } s ? Micros.From(s) : null;
        long? until = f.Until is { } u ? Micros.From(u) : null;
        // The first whole hour at or after since, and the end of the last whole hour at or before until.
        long? firstHour = since is { } sm ? -HourOf(-sm) : null;
        long? endHour = until is { } um ? HourOf(um) : null;
        if (firstHour is { } fh && endHour is { } eh && fh >= eh)
        {
            return null;
        }
        var agentTable = f.AgentId is not null || query.Key == CountKey.Agent;
        var rawBefore = since is { } s2 && firstHour is { } f2 && s2 < f2 * HourMicros ? (s2, f2 * HourMicros) : ((long, long)?)null;
        var rawAfter = until is { } u2 && endHour is { } e2 && e2 * HourMicros < u2 ? (e2 * HourMicros, u2) : ((long, long)?)null;
        return new RollupPlan(agentTable ? "alert_counts" : "alert_counts_fleet", firstHour, endHour, rawBefore, rawAfter, (long)query.Bucket.TotalSeconds / HourSeconds);
    }
}

/// <summary>
/// Which rollup table serves a count, over which hours [<see cref="FirstHour"/>, <see cref="EndHour"/>) (null: unbounded),
/// and which partial hours (microsecond ranges) are counted from the alerts instead.
/// </summary>
public sealed record RollupPlan(string Table, long? FirstHour, long? EndHour, (long From, long To)? RawBefore, (long From, long To)? RawAfter, long BucketHours);

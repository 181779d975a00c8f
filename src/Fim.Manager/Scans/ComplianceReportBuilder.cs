using Fim.Api.V1;
using Fim.Manager.Fleet;
using Fim.Manager.Security;
using Fim.Manager.Store;
using Google.Protobuf.WellKnownTypes;

namespace Fim.Manager.Scans;

/// <summary>
/// Builds the compliance report: every agent in scope (the selector over the agent directory, within the caller's
/// grants), including those that ran no scan, with its scans, gaps, changes by level, review states and unreviewed
/// high-level alerts. Scans and alerts are counted per policy, so a caller limited to namespaces sees only theirs.
/// </summary>
public sealed class ComplianceReportBuilder(IScanStore store, TimeProvider time)
{
    public static readonly string[] ReviewStates = ["new", "expected", "incident", "false_positive"];

    /// <param name="directory">Every agent the manager knows (AgentLifecycle.List("all")).</param>
    public Task<ComplianceReport> BuildAsync(ComplianceArguments args, CallerAccess caller, IEnumerable<AgentView> directory, CancellationToken cancellationToken) =>
        BuildAsync(args, caller, InScope(args, caller, directory), null, listAlerts: true, cancellationToken);

    /// <summary>
    /// The report for at most <paramref name="size"/> agents of the scope (ordered by id) after <paramref name="after"/>,
    /// for the console: only their rows are read, and their unreviewed high-level alerts are counted, not listed (the
    /// list reads each agent's alerts of the range one by one; the console links the count to the alerts page instead).
    /// Also how many agents the scope holds, and the id the next page starts after (null: this is the last). A removed
    /// agent with no evidence in the range is left out, so a page may hold fewer rows.
    /// </summary>
    public async Task<(ComplianceReport Report, int Agents, string? Next)> BuildPageAsync(ComplianceArguments args, CallerAccess caller,
        IEnumerable<AgentView> directory, string? after, int size, CancellationToken cancellationToken)
    {
        var scope = InScope(args, caller, directory);
        var rest = scope.SkipWhile(v => after is not null && string.CompareOrdinal(v.Agent.AgentId, after) <= 0).Take(size + 1).ToList();
        var page = rest.Take(size).ToList();
        var report = await BuildAsync(args, caller, page, [.. page.Select(v => v.Agent.AgentId)], listAlerts: false, cancellationToken);
        return (report, scope.Count, rest.Count > size ? page[^1].Agent.AgentId : null);
    }

    private static List<AgentView> InScope(ComplianceArguments args, CallerAccess caller, IEnumerable<AgentView> directory) =>
        [.. directory.Where(v => args.Selector.Matches(v.Agent.Labels) && caller.SeesAgent(v.Agent)).OrderBy(v => v.Agent.AgentId, StringComparer.Ordinal)];

    /// <param name="agentIds">The agents whose rows are read; null: all (the whole scope).</param>
    private async Task<ComplianceReport> BuildAsync(ComplianceArguments args, CallerAccess caller, List<AgentView> inScope, IReadOnlyCollection<string>? agentIds,
        bool listAlerts, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var end = args.To < now ? args.To : now;
        // Counted per policy only when a grant limits the caller to namespaces; otherwise the count rollup serves.
        var byPolicy = caller.Grants.Any(g => g.Namespaces is { Count: > 0 });
        var summaries = await store.SummarizeScansAsync(args.From, args.To, agentIds, cancellationToken);
        var tallies = await store.TallyAlertsAsync(args.From, args.To, agentIds, byPolicy, cancellationToken);
        var unreviewed = listAlerts ? await store.UnreviewedAlertsAsync(args.From, args.To, args.MinLevel, args.MaxAlerts, agentIds, cancellationToken) : [];
        var withData = summaries.Select(s => s.AgentId).Concat(tallies.Select(t => t.AgentId)).ToHashSet(StringComparer.Ordinal);

        var report = new ComplianceReport
        {
            GeneratedAt = Timestamp.FromDateTimeOffset(now),
            From = Timestamp.FromDateTimeOffset(args.From),
            To = Timestamp.FromDateTimeOffset(args.To),
            Selector = args.SelectorText,
            MaxGapSeconds = (long)args.MaxGap.TotalSeconds,
            MinLevel = args.MinLevel,
        };
        // Removed agents only when they left evidence in the range: a decommissioned host is not a missed scan.
        var agents = inScope.Where(v => v.Status != AgentLifecycle.Removed || withData.Contains(v.Agent.AgentId));
        var scansBy = summaries.ToLookup(s => s.AgentId, StringComparer.Ordinal);
        var talliesBy = tallies.ToLookup(t => t.AgentId, StringComparer.Ordinal);
        var alertsBy = unreviewed.ToLookup(a => a.AgentId, StringComparer.Ordinal);
        foreach (var view in agents)
        {
            var agent = view.Agent;
            bool Sees(string? policy) => caller.SeesRecord(agent.Labels, policy);
            var row = new AgentCompliance { AgentId = agent.AgentId, Host = agent.Host, Status = view.Status };
            row.Labels.Add(agent.Labels.ToDictionary());

            var policies = scansBy[agent.AgentId].Where(s => Sees(s.Policy)).Select(s => Policy(s, args, end)).ToList();
            // A policy the agent applies but that ran no scan in the range is the missed comparison the report is for.
            var applied = agent.Heartbeat?.AppliedPolicies.Keys ?? (IEnumerable<string>)[];
            policies.AddRange(applied.Where(p => Sees(p) && policies.All(x => x.Policy != p)).Select(p => Missing(p, args, end)));
            policies.Sort((a, b) => string.CompareOrdinal(a.Policy, b.Policy));
            row.Policies.Add(policies);
            row.Scans = (ulong)policies.Sum(p => (long)p.Scans);
            row.FailedScans = (ulong)policies.Sum(p => (long)p.FailedScans);
            row.FirstScan = policies.Where(p => p.FirstScan is not null).Select(p => p.FirstScan).MinBy(t => t.ToDateTimeOffset());
            row.LastScan = policies.Where(p => p.LastScan is not null).Select(p => p.LastScan).MaxBy(t => t.ToDateTimeOffset());
            if (policies.Count == 0)
            {
                row.LongestGapSeconds = Seconds(end - args.From);
                row.ExpectedIntervalSeconds = Seconds(args.MaxGap);
                row.GapExceeded = Exceeds(end - args.From, args.MaxGap);
            }
            else
            {
                row.LongestGapSeconds = policies.Max(p => p.LongestGapSeconds);
                row.ExpectedIntervalSeconds = policies.Max(p => p.ExpectedIntervalSeconds);
                row.GapExceeded = policies.Any(p => p.GapExceeded);
            }

            foreach (var state in ReviewStates)
            {
                row.ReviewStates[state] = 0;
            }
            foreach (var t in talliesBy[agent.AgentId].Where(t => Sees(t.Policy)))
            {
                row.ChangesByLevel[t.Level] = row.ChangesByLevel.GetValueOrDefault(t.Level) + (ulong)t.Count;
                row.ReviewStates[t.State] = row.ReviewStates.GetValueOrDefault(t.State) + (ulong)t.Count;
                if (t.Level >= args.MinLevel && t.State == "new")
                {
                    row.UnreviewedHigh += (ulong)t.Count;
                }
            }
            row.UnreviewedHighAlerts.Add(alertsBy[agent.AgentId].Where(a => Sees(a.Policy)).Select(a => new UnreviewedAlert
            {
                AlertId = a.AlertId,
                ObservedAt = Timestamp.FromDateTimeOffset(Micros.ToTime(a.ObservedAtMicros)),
                Path = a.Path,
                Level = a.Level,
                RuleId = a.RuleId,
                Kind = a.Kind,
                Policy = a.Policy ?? "",
            }));
            report.Agents.Add(row);
        }
        return report;
    }

    private static PolicyCompliance Policy(ScanSummary s, ComplianceArguments args, DateTimeOffset end)
    {
        var first = Micros.ToTime(s.FirstMicros);
        var last = Micros.ToTime(s.LastMicros);
        var gaps = new[] { first - args.From, end > last ? end - last : TimeSpan.Zero, TimeSpan.FromTicks((s.LongestGapMicros ?? 0) * 10) };
        var longest = gaps.Max();
        var expected = s.ScheduleSeconds > 0 ? TimeSpan.FromSeconds(s.ScheduleSeconds) : args.MaxGap;
        return new PolicyCompliance
        {
            Policy = s.Policy,
            Scans = (ulong)s.Count,
            FirstScan = Timestamp.FromDateTimeOffset(first),
            LastScan = Timestamp.FromDateTimeOffset(last),
            LongestGapSeconds = Seconds(longest),
            ExpectedIntervalSeconds = Seconds(expected),
            GapExceeded = Exceeds(longest, expected),
            FailedScans = (ulong)s.Errors,
        };
    }

    private static PolicyCompliance Missing(string policy, ComplianceArguments args, DateTimeOffset end) => new()
    {
        Policy = policy,
        LongestGapSeconds = Seconds(end - args.From),
        ExpectedIntervalSeconds = Seconds(args.MaxGap),
        GapExceeded = Exceeds(end - args.From, args.MaxGap),
    };

    /// <summary>A gap counts as missed beyond the expected interval plus a grace (a tenth of it, at least 5 minutes): a scan takes time.</summary>
    public static bool Exceeds(TimeSpan gap, TimeSpan expected) =>
        gap > expected + TimeSpan.FromTicks(Math.Max(TimeSpan.FromMinutes(5).Ticks, expected.Ticks / 10));

    private static long Seconds(TimeSpan t) => (long)Math.Floor(t.TotalSeconds);
}


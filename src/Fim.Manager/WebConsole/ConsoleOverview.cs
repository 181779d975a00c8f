using V1 = Fim.Api.V1;
using System.Globalization;
using Fim.Contracts;
using Fim.Manager.Api;
using Fim.Manager.Fleet;
using Fim.Manager.Nats;
using Fim.Manager.Security;
using Fim.Manager.Store;
using Google.Protobuf.WellKnownTypes;

namespace Fim.Manager.WebConsole;

/// <summary>The overview page's figures for one user: what the API's counts and agent list would give it, plus the pipeline's state.</summary>
public sealed record OverviewFigures(
    DateTimeOffset Now,
    IReadOnlyList<DateTimeOffset> Hours,
    IReadOnlyDictionary<string, long[]> AlertsPerHourByBand,
    IReadOnlyList<(string Agent, long Alerts)> TopAgents,
    IReadOnlyList<(string Namespace, long Alerts)> TopNamespaces,
    IReadOnlyList<(string Path, long Alerts)> TopPaths,
    int PathsSampled,
    long UnreviewedHigh,
    bool Truncated,
    IReadOnlyDictionary<string, int> AgentsByStatus,
    IReadOnlyDictionary<string, int> WhoDataSources,
    IReadOnlyList<(string Policy, long Revision, int Agents)> AppliedPolicies,
    int AgentsWithPolicyErrors,
    ulong? ConsumerPending,
    ulong? DeadLetters,
    string? PipelineError);

/// <summary>
/// Builds <see cref="OverviewFigures"/>: alerts of the last 24 hours by hour and level band, top agents and namespaces,
/// unreviewed alerts of level 10 and above in the last 7 days (all through AlertAccess, so within the user's grants),
/// the fleet from the agent directory, and the events consumer's backlog and the dead letters from JetStream.
/// </summary>
public sealed class ConsoleOverview(AlertAccess alerts, AgentLifecycle lifecycle, NatsConnector nats, TimeProvider time, ILogger<ConsoleOverview> log)
{
    public const int HighLevel = 10;
    /// <summary>
    /// Top changed paths are counted among this many of the newest alerts of the 24 hours: the store keeps no count by
    /// path (a rollup row per path would cost every insert), and reading a day of a large fleet alert by alert would not
    /// fit the page's time. The page says so.
    /// </summary>
    public const int PathSample = 1000;
    public static readonly (string Name, int Min, int Max)[] Bands = [("level 0-6", 0, 6), ("level 7-11", 7, 11), ("level 12-15", 12, 15)];
    private static readonly TimeSpan Day = TimeSpan.FromHours(24);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    public async Task<OverviewFigures> BuildAsync(CallerAccess caller, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var firstHour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero) - Day + Hour;
        var hours = Enumerable.Range(0, 24).Select(h => firstHour + TimeSpan.FromHours(h)).ToList();
        var lastDay = Filter(firstHour, now);

        var unreviewed = AlertFilters.From(new V1.ListAlertsRequest
        {
            Since = Timestamp.FromDateTimeOffset(now - TimeSpan.FromDays(7)),
            Until = Timestamp.FromDateTimeOffset(now),
            MinLevel = HighLevel,
            ReviewState = ReviewStates.New,
        }, now);
        // Independent reads, each on a connection of its own: the page waits for the slowest, not for their sum.
        var levelTask = alerts.CountAsync(caller, new CountQuery(lastDay, CountKey.Level, Hour), cancellationToken);
        var agentTask = alerts.CountAsync(caller, new CountQuery(lastDay, CountKey.Agent, Day), cancellationToken);
        var namespaceTask = alerts.CountAsync(caller, new CountQuery(lastDay, CountKey.Namespace, Day), cancellationToken);
        var highTask = alerts.CountAsync(caller, new CountQuery(unreviewed, CountKey.Level, TimeSpan.FromDays(8)), cancellationToken);
        var pipelineTask = PipelineAsync(cancellationToken);
        var newestTask = alerts.PageAsync(caller, lastDay with { Limit = PathSample }, cancellationToken);
        await Task.WhenAll(levelTask, agentTask, namespaceTask, highTask, pipelineTask, newestTask);
        var newest = (await newestTask).Rows;
        var ((byLevel, t1), (byAgent, t2), (byNamespace, t3), (high, t4)) = (await levelTask, await agentTask, await namespaceTask, await highTask);

        var bands = Bands.ToDictionary(b => b.Name, _ => new long[hours.Count]);
        foreach (var row in byLevel)
        {
            var index = (int)((row.BucketStart - firstHour) / Hour);
            var level = int.Parse(row.Key, CultureInfo.InvariantCulture);
            if (index >= 0 && index < hours.Count && Bands.FirstOrDefault(b => level >= b.Min && level <= b.Max) is { Name: not null } band)
            {
                bands[band.Name][index] += row.Count;
            }
        }

        var agents = lifecycle.List("all").Where(v => caller.SeesAgent(v.Agent)).ToList();
        var heartbeats = agents.Where(v => v.Status == AgentLifecycle.Active && v.Agent.Heartbeat is not null).Select(v => v.Agent.Heartbeat!).ToList();
        var (pending, deadLetters, pipelineError) = await pipelineTask;
        return new OverviewFigures(
            now,
            hours,
            bands,
            Top(byAgent),
            Top(byNamespace).Where(n => n.Key.Length > 0).ToList(),
            Top([.. newest.Select(r => new CountRow(now, r.Alert.Path, 1))]),
            newest.Count,
            high.Sum(c => c.Count),
            t1 || t2 || t3 || t4,
            agents.GroupBy(v => v.Status).ToDictionary(g => g.Key, g => g.Count()),
            heartbeats.SelectMany(h => (h.WhoData ?? new Dictionary<string, WhoDataStatus>()).Values.Select(w => w.Source).Distinct())
                .GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count()),
            [.. heartbeats.SelectMany(h => h.AppliedPolicies).GroupBy(p => (p.Key, p.Value))
                .Select(g => (g.Key.Key, g.Key.Value, g.Count())).OrderBy(p => p.Key, StringComparer.Ordinal).ThenByDescending(p => p.Value)],
            heartbeats.Count(h => h.PolicyErrors.Count > 0),
            pending,
            deadLetters,
            pipelineError);
    }

    private static AlertQuery Filter(DateTimeOffset since, DateTimeOffset until) => AlertFilters.From(new V1.ListAlertsRequest
    {
        Since = Timestamp.FromDateTimeOffset(since),
        Until = Timestamp.FromDateTimeOffset(until),
    }, until);

    private static List<(string Key, long Count)> Top(IReadOnlyList<CountRow> rows) =>
        [.. rows.GroupBy(r => r.Key, StringComparer.Ordinal).Select(g => (g.Key, g.Sum(r => r.Count))).OrderByDescending(g => g.Item2)
            .ThenBy(g => g.Key, StringComparer.Ordinal).Take(10)];

    /// <summary>Events waiting for a manager (pending + unacked), and dead letters kept; unknown when JetStream cannot be read.</summary>
    private async Task<(ulong? Pending, ulong? DeadLetters, string? Error)> PipelineAsync(CancellationToken cancellationToken)
    {
        try
        {
            var js = await nats.JetStreamAsync(cancellationToken);
            var consumer = await js.GetConsumerAsync(Subjects.EventsStream, Subjects.ManagersConsumer, cancellationToken);
            var deadLetters = await js.GetStreamAsync(Subjects.DeadLetterStream, cancellationToken: cancellationToken);
            return (consumer.Info.NumPending + (ulong)Math.Max(0, consumer.Info.NumAckPending), (ulong)deadLetters.Info.State.Messages, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning("Console overview: JetStream could not be read: {Error}", e.Message);
            return (null, null, "JetStream could not be read (the manager's log has why)");
        }
    }
}

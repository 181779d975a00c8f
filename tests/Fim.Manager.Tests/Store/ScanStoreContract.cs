using System.Globalization;
using CsvHelper;
using V1 = Fim.Api.V1;
using Fim.Contracts;
using Fim.Manager.Agents;
using Fim.Manager.Fleet;
using Fim.Manager.Scans;
using Fim.Manager.Security;
using Fim.Manager.Store;
using Npgsql;
using static Fim.Manager.Tests.Store.StoreTestAlerts;

namespace Fim.Manager.Tests.Store;

/// <summary>
/// The scans table (migration 4) and the compliance report's reads, on each backend (SqliteScanStoreTests,
/// PostgresScanStoreTests), with real stored scans, alerts and reviews. Tests keep apart by agent id.
/// </summary>
public abstract class ScanStoreContract
{
    private static CancellationToken Ct => CancellationToken.None;

    protected abstract IAlertStore Alerts { get; }

    private IScanStore Scans => (IScanStore)Alerts;

    /// <summary>A review row as the review API writes it (alert_reviews, migration 2).</summary>
    protected abstract Task ReviewAsync(string alertId, string state);

    public static ScanRecord Scan(string agent, string policy, DateTimeOffset finished, int added = 0, int changed = 0, int removed = 0, int errors = 0,
        long schedule = 7 * 86400, IReadOnlyDictionary<string, string>? labels = null) => new()
        {
            ScanId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)),
            AgentId = agent,
            Host = agent + ".example",
            Labels = labels ?? new Dictionary<string, string> { ["env"] = "prod" },
            Policy = policy,
            PolicyRevision = 3,
            Trigger = "schedule",
            StartedAt = finished.AddSeconds(-5),
            FinishedAt = finished,
            DurationMs = 5000,
            Files = 100,
            Directories = 10,
            BytesHashed = 4096,
            Added = added,
            Changed = changed,
            Removed = removed,
            Errors = errors,
            Result = ScanRecord.ResultOf(added + changed + removed, errors),
            BaselineDigest = new string('a', 64),
            ScheduleSeconds = schedule,
        };

    public static StoredScan Stored(ScanRecord r) => new(r, 1, Micros.From(DateTimeOffset.UtcNow), ContractJson.ToUtf8(r));

    [Fact]
    public async Task Migration_4_creates_the_scans_table_and_the_versions_ascend()
    {
        var versions = await Alerts.SchemaVersionsAsync(Ct);
        Assert.Contains(ScanSchema.Version, versions);
        Assert.Equal(versions.Distinct().Order(), versions);
    }

    [Fact]
    public async Task Scan_records_are_stored_once_and_listed_newest_first_by_agent_policy_and_time_with_a_keyset_cursor()
    {
        var agent = Agent("scan");
        var t0 = DateTimeOffset.UtcNow.AddHours(-10);
        var records = Enumerable.Range(0, 7).Select(i => Scan(agent, i % 2 == 0 ? "prod/etc" : "prod/bin", t0.AddHours(i))).ToList();
        Assert.Equal(7, await Scans.InsertScansAsync(records.Select(Stored).ToList(), Ct));
        // A redelivery, and a batch repeating one.
        Assert.Equal(0, await Scans.InsertScansAsync(records.Select(Stored).ToList(), Ct));
        Assert.Equal(1, await Scans.InsertScansAsync([Stored(Scan(agent, "prod/etc", t0.AddHours(8))), Stored(records[0])], Ct));

        var all = await Scans.SearchScansAsync(new ScanQuery { AgentId = agent, Limit = 100 }, Ct);
        Assert.Equal(8, all.Rows.Count);
        Assert.Null(all.Next);
        Assert.Equal(all.Rows.OrderByDescending(r => r.FinishedAtMicros).Select(r => r.ScanId), all.Rows.Select(r => r.ScanId));

        var etc = await Scans.SearchScansAsync(new ScanQuery { AgentId = agent, Policy = "prod/etc", Since = t0.AddMinutes(30), Until = t0.AddHours(7) }, Ct);
        Assert.Equal([t0.AddHours(6), t0.AddHours(4), t0.AddHours(2)], etc.Rows.Select(r => ContractJson.ReadScan(r.Json)!.FinishedAt));

        var pages = new List<string>();
        AlertCursor? after = null;
        do
        {
            var page = await Scans.SearchScansAsync(new ScanQuery { AgentId = agent, Limit = 3, After = after }, Ct);
            Assert.True(page.Rows.Count <= 3);
            pages.AddRange(page.Rows.Select(r => r.ScanId));
            after = page.Next;
        }
        while (after is not null);
        Assert.Equal(all.Rows.Select(r => r.ScanId), pages);
        var read = ContractJson.ReadScan(all.Rows[^1].Json)!;
        Assert.Equal(records[0].ScanId, read.ScanId);
        Assert.Equal(records[0].BaselineDigest, read.BaselineDigest);
    }

    [Fact]
    public async Task Summaries_give_counts_first_last_and_the_longest_gap_per_agent_and_policy_and_retention_removes_old_scans()
    {
        var agent = Agent("sum");
        var from = DateTimeOffset.UtcNow.AddDays(-30);
        var times = new[] { from.AddDays(1), from.AddDays(2), from.AddDays(12), from.AddDays(13) };
        await Scans.InsertScansAsync(times.Select((t, i) => Stored(Scan(agent, "prod/etc", t, errors: i == 1 ? 2 : 0, schedule: 86400))).ToList(), Ct);
        await Scans.InsertScansAsync([Stored(Scan(agent, "prod/bin", from.AddDays(5)))], Ct);
        var summaries = (await Scans.SummarizeScansAsync(from, from.AddDays(30), null, Ct)).Where(s => s.AgentId == agent).OrderBy(s => s.Policy).ToList();
        Assert.Equal(["prod/bin", "prod/etc"], summaries.Select(s => s.Policy));
        var etc = summaries[1];
        Assert.Equal(4, etc.Count);
        Assert.Equal(Micros.From(times[0]), etc.FirstMicros);
        Assert.Equal(Micros.From(times[3]), etc.LastMicros);
        Assert.Equal(Micros.From(times[2]) - Micros.From(times[1]), etc.LongestGapMicros);
        Assert.Equal(86400, etc.ScheduleSeconds);
        Assert.Equal(1, etc.Errors);
        Assert.Null(summaries[0].LongestGapMicros);

        var old = Agent("old");
        await Scans.InsertScansAsync([Stored(Scan(old, "prod/etc", DateTimeOffset.UtcNow.AddDays(-500)))], Ct);
        Assert.True(await Scans.RemoveScansBeforeAsync(DateTimeOffset.UtcNow.AddDays(-400), Ct) >= 1);
        Assert.Empty((await Scans.SearchScansAsync(new ScanQuery { AgentId = old }, Ct)).Rows);
        Assert.Equal(5, (await Scans.SearchScansAsync(new ScanQuery { AgentId = agent, Since = from }, Ct)).Rows.Count);
    }

    [Fact]
    public async Task The_compliance_report_shows_a_missed_weekly_scan_an_agent_that_never_scanned_changes_by_level_and_unreviewed_alerts()
    {
        var ok = Agent("weekly-ok");
        var missed = Agent("weekly-missed");
        var never = Agent("never");
        var other = Agent("other-env");
        var to = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-1);
        var from = to.AddDays(-28);
        // Weekly schedules: the first agent scanned every week; the second stopped after two weeks.
        await Scans.InsertScansAsync(Enumerable.Range(0, 4).Select(k => Stored(Scan(ok, "prod/etc", from.AddHours(1).AddDays(7 * k)))).ToList(), Ct);
        await Scans.InsertScansAsync(Enumerable.Range(0, 2).Select(k => Stored(Scan(missed, "prod/etc", from.AddHours(1).AddDays(7 * k), changed: 1))).ToList(), Ct);
        await Scans.InsertScansAsync([Stored(Scan(other, "prod/etc", from.AddHours(1), labels: new Dictionary<string, string> { ["env"] = "dev" }))], Ct);

        var alerts = new List<Alert>
        {
            Alert(missed, "/etc/passwd", from.AddDays(3), level: 12),
            Alert(missed, "/etc/shadow", from.AddDays(4), level: 12),
            Alert(missed, "/etc/group", from.AddDays(5), level: 12),
            Alert(missed, "/etc/a,\"b\"\nc", from.AddDays(6), level: 10),
            Alert(missed, "/etc/motd", from.AddDays(6), level: 3),
            Alert(missed, "/etc/outside", to.AddDays(1), level: 12),
            Alert(ok, "/etc/hosts", from.AddDays(2), level: 5),
        };
        await Alerts.InsertAsync(alerts.Select(a => StoreTestAlerts.Stored(a)).ToList(), Ct);
        await ReviewAsync(alerts[0].AlertId, "expected");
        await ReviewAsync(alerts[1].AlertId, "incident");
        await ReviewAsync(alerts[6].AlertId, "false_positive");

        var directory = new[]
        {
            View(ok, "ok.example", new() { ["env"] = "prod" }, "prod/etc"),
            View(missed, "=cmd|' /C calc'!A0", new() { ["env"] = "prod", ["note"] = "a, \"quoted\"\nvalue" }, "prod/etc"),
            View(never, "never.example", new() { ["env"] = "prod" }, "prod/etc"),
            View(other, "other.example", new() { ["env"] = "dev" }, "prod/etc"),
        };
        var builder = new ComplianceReportBuilder(Scans, TimeProvider.System);
        var args = ComplianceArguments.Parse(new V1.GetComplianceReportRequest
        {
            From = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(from),
            To = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(to),
            Selector = "env=prod",
            MaxAlerts = 2,
        }, DateTimeOffset.UtcNow);
        var report = await builder.BuildAsync(args, new CallerAccess("test", "test", [new Grant(Role.Admin)]), directory, Ct);

        Assert.Equal(new[] { missed, never, ok }.Order(StringComparer.Ordinal), report.Agents.Select(a => a.AgentId));
        var okRow = report.Agents.Single(a => a.AgentId == ok);
        Assert.Equal(4UL, okRow.Scans);
        Assert.False(okRow.GapExceeded, $"gap {okRow.LongestGapSeconds} s");
        Assert.Equal(7 * 86400, okRow.ExpectedIntervalSeconds);
        Assert.Equal(1UL, okRow.ReviewStates["false_positive"]);
        Assert.Equal(0UL, okRow.UnreviewedHigh);

        var missedRow = report.Agents.Single(a => a.AgentId == missed);
        Assert.Equal(2UL, missedRow.Scans);
        Assert.True(missedRow.GapExceeded);
        Assert.Equal((long)(to - from.AddHours(1).AddDays(7)).TotalSeconds, missedRow.LongestGapSeconds);
        Assert.Equal(3UL, missedRow.ChangesByLevel[12]);
        Assert.Equal(1UL, missedRow.ChangesByLevel[10]);
        Assert.Equal(1UL, missedRow.ChangesByLevel[3]);
        Assert.Equal(1UL, missedRow.ReviewStates["expected"]);
        Assert.Equal(1UL, missedRow.ReviewStates["incident"]);
        Assert.Equal(3UL, missedRow.ReviewStates["new"]);
        // Level >= 10 and not reviewed: /etc/group and the odd path; the list is capped at 2, newest first, the count is not.
        Assert.Equal(2UL, missedRow.UnreviewedHigh);
        Assert.Equal(["/etc/a,\"b\"\nc", "/etc/group"], missedRow.UnreviewedHighAlerts.Select(u => u.Path));

        var neverRow = report.Agents.Single(a => a.AgentId == never);
        Assert.Equal(0UL, neverRow.Scans);
        Assert.True(neverRow.GapExceeded);
        Assert.Equal(28 * 86400, neverRow.LongestGapSeconds);
        Assert.Equal("prod/etc", Assert.Single(neverRow.Policies).Policy);

        // CSV: RFC 4180 quoting of commas, quotes and newlines, and no formula in a cell.
        var csv = System.Text.Encoding.UTF8.GetString(ComplianceCsv.Write(report));
        using var reader = new CsvReader(new StringReader(csv), CultureInfo.InvariantCulture);
        var rows = new List<string[]>();
        while (reader.Read())
        {
            rows.Add(Enumerable.Range(0, reader.Parser.Count).Select(i => reader.GetField(i)!).ToArray());
        }
        Assert.Equal(ComplianceCsv.Columns, rows[0]);
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => Assert.Equal(ComplianceCsv.Columns.Length, r.Length));
        var m = rows.Single(r => r[0] == missed);
        Assert.Equal("'=cmd|' /C calc'!A0", m[Array.IndexOf(ComplianceCsv.Columns, "host")]);
        Assert.Equal("env=prod,note=a, \"quoted\"\nvalue", m[Array.IndexOf(ComplianceCsv.Columns, "labels")]);
        Assert.Equal("true", m[Array.IndexOf(ComplianceCsv.Columns, "gap_exceeded")]);
        Assert.Equal("prod/etc", m[Array.IndexOf(ComplianceCsv.Columns, "policies_missed")]);
        Assert.Equal("2", m[Array.IndexOf(ComplianceCsv.Columns, "unreviewed_high")]);
        Assert.Contains("/etc/a,\"b\"\nc", m[Array.IndexOf(ComplianceCsv.Columns, "unreviewed_high_alerts")]);
        Assert.Equal("0", rows.Single(r => r[0] == never)[Array.IndexOf(ComplianceCsv.Columns, "scans")]);
        Assert.DoesNotContain(rows.Skip(1).SelectMany(r => r), cell => cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@');
    }

    [Fact]
    public async Task Tallies_from_the_count_rollup_less_reviews_equal_the_alert_by_alert_tallies_and_a_page_reads_only_its_agents()
    {
        var agents = new[] { Agent("tally-a"), Agent("tally-b"), Agent("tally-c") };
        // A range with partial hours at both ends (read alert by alert) around whole hours (read from the rollup).
        var from = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-3).AddMinutes(17);
        var to = from.AddHours(30).AddMinutes(11);
        var random = new Random(5);
        var alerts = Enumerable.Range(0, 400).Select(i => Alert(agents[i % 3], $"/etc/f{i % 7}", from.AddMinutes(random.Next(-60, 30 * 60 + 70)),
            level: new[] { 3, 7, 10, 12 }[random.Next(4)])).ToList();
        await Alerts.InsertAsync(alerts.Select(a => StoreTestAlerts.Stored(a)).ToList(), Ct);
        string[] states = ["expected", "incident", "false_positive", "new"];
        foreach (var (a, i) in alerts.Where((_, i) => i % 5 == 0).Select((a, i) => (a, i)))
        {
            await ReviewAsync(a.AlertId, states[i % states.Length]);
        }

        static Dictionary<(string, int, string), long> Sum(IEnumerable<AlertTally> tallies) =>
            tallies.GroupBy(t => (t.AgentId, t.Level, t.State)).ToDictionary(g => g.Key, g => g.Sum(t => t.Count));
        var exact = Sum((await Scans.TallyAlertsAsync(from, to, agents, byPolicy: true, Ct)).Where(t => agents.Contains(t.AgentId)));
        var expected = alerts.Where(a => a.ObservedAt >= from && a.ObservedAt < to).Count();
        Assert.Equal(expected, exact.Values.Sum());
        Assert.True(exact.Keys.Select(k => k.Item3).Distinct().Count() >= 3, "reviews in several states fall in the range");
        var rolled = await Scans.TallyAlertsAsync(from, to, agents, byPolicy: false, Ct);
        Assert.All(rolled, t => Assert.Null(t.Policy));
        Assert.Equal(exact.OrderBy(e => e.Key), Sum(rolled).OrderBy(e => e.Key));
        // A page of agents: only theirs.
        Assert.Equal(exact.Where(e => e.Key.Item1 == agents[1]).OrderBy(e => e.Key), Sum(await Scans.TallyAlertsAsync(from, to, [agents[1]], false, Ct)).OrderBy(e => e.Key));

        var all = (await Scans.UnreviewedAlertsAsync(from, to, 10, 4, null, Ct)).Where(u => agents.Contains(u.AgentId)).ToList();
        var paged = await Scans.UnreviewedAlertsAsync(from, to, 10, 4, agents, Ct);
        Assert.Equal(12, all.Count);
        Assert.Equal(all.Select(u => u.AlertId).Order(StringComparer.Ordinal), paged.Select(u => u.AlertId).Order(StringComparer.Ordinal));

        // The console's pages of the report: two agents, then the last one.
        var directory = agents.Select(a => View(a, a + ".example", new() { ["env"] = "tally" }, "prod/etc")).Reverse().ToList();
        var builder = new ComplianceReportBuilder(Scans, TimeProvider.System);
        var args = ComplianceArguments.Parse(new V1.GetComplianceReportRequest
        {
            From = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(from),
            To = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(to),
            Selector = "env=tally",
        }, DateTimeOffset.UtcNow);
        var admin = new CallerAccess("test", "test", [new Grant(Role.Admin)]);
        var whole = await builder.BuildAsync(args, admin, directory, Ct);
        var sorted = agents.Order(StringComparer.Ordinal).ToList();
        var (first, total, next) = await builder.BuildPageAsync(args, admin, directory, null, 2, Ct);
        Assert.Equal(3, total);
        Assert.Equal(sorted[..2], first.Agents.Select(a => a.AgentId));
        Assert.Equal(sorted[1], next);
        var (second, _, last) = await builder.BuildPageAsync(args, admin, directory, next, 2, Ct);
        Assert.Equal([sorted[2]], second.Agents.Select(a => a.AgentId));
        Assert.Null(last);
        // The same rows as the whole report, but the unreviewed alerts counted, not listed (the console links to them).
        Assert.Contains(whole.Agents, a => a.UnreviewedHighAlerts.Count > 0);
        Assert.All(first.Agents.Concat(second.Agents), a => Assert.Empty(a.UnreviewedHighAlerts));
        foreach (var a in whole.Agents)
        {
            a.UnreviewedHighAlerts.Clear();
        }
        Assert.Equal(whole.Agents.Select(a => a.ToString()), first.Agents.Concat(second.Agents).Select(a => a.ToString()));
    }

    private static AgentView View(string id, string host, Dictionary<string, string> labels, string policy)
    {
        var hb = new Heartbeat
        {
            AgentId = id,
            Hostname = host,
            Version = "1",
            BootId = "b",
            Labels = labels,
            AppliedPolicies = new Dictionary<string, long> { [policy] = 3 },
            PolicyErrors = new Dictionary<string, string>(),
            Policies = [],
            BaselineDigest = "",
            Outbox = new HeartbeatOutbox(0, 0, 100, false, 0),
            Time = DateTimeOffset.UtcNow,
        };
        return new AgentView(new AgentRecord(id, hb, DateTimeOffset.UtcNow, ""), AgentLifecycle.Active);
    }
}

public sealed class SqliteScanStoreTests(SqliteStoreFixture f) : ScanStoreContract, IClassFixture<SqliteStoreFixture>
{
    protected override IAlertStore Alerts => f.Store;

    protected override async Task ReviewAsync(string alertId, string state)
    {
        await f.Store.MigrateAsync(CancellationToken.None);
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={f.File}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO alert_reviews (alert_id, state, reviewer, reviewed_at, comment) VALUES ($id, $state, 'test', 0, NULL)";
        command.Parameters.AddWithValue("$id", alertId);
        command.Parameters.AddWithValue("$state", state);
        await command.ExecuteNonQueryAsync();
    }
}

public sealed class PostgresScanStoreTests(PostgresStoreFixture f) : ScanStoreContract, IClassFixture<PostgresStoreFixture>
{
    protected override IAlertStore Alerts => f.Store;

    protected override async Task ReviewAsync(string alertId, string state)
    {
        await using var connection = new NpgsqlConnection(f.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("INSERT INTO alert_reviews (alert_id, state, reviewer, reviewed_at, comment) VALUES (@id, @state, 'test', now(), NULL)", connection);
        command.Parameters.AddWithValue("id", alertId);
        command.Parameters.AddWithValue("state", state);
        await command.ExecuteNonQueryAsync();
    }
}

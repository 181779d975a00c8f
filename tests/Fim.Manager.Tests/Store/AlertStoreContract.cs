using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Store;
using static Fim.Manager.Tests.Store.StoreTestAlerts;

namespace Fim.Manager.Tests.Store;

/// <summary>
/// What every alert store backend must do, run against each (SqliteAlertStoreTests, PostgresAlertStoreTests). Tests
/// share one database per class and keep apart by agent id.
/// </summary>
public abstract class AlertStoreContract
{
    protected static readonly DateTimeOffset T0 = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddHours(-36);

    protected abstract IAlertStore Store { get; }

    /// <summary>A second store on the same database (another manager, or this one restarted).</summary>
    protected abstract Task<IAlertStore> OpenAgainAsync();

    /// <summary>A store on a new, empty database, and a way to run SQL on that database behind the store's back.</summary>
    protected abstract Task<(IAlertStore Store, Func<string, Task> Sql)> OpenFreshAsync();

    private static CancellationToken Ct => CancellationToken.None;

    private async Task<List<Alert>> SearchAllAsync(AlertQuery q)
    {
        var page = await Store.SearchAsync(q, Ct);
        return [.. page.Rows.Select(r => JsonSerializer.Deserialize(r.Json, ContractJson.Default.Alert)!)];
    }

    [Fact]
    public async Task Migrations_run_once_and_are_recorded_in_schema_version()
    {
        await Store.MigrateAsync(Ct);
        var versions = await Store.SchemaVersionsAsync(Ct);
        // 1 alerts, 2 reviews, 3 audit log, 4 scans, 5 count rollups: each once, in order.
        Assert.Equal([1, 2, 3, 4, 5], versions);
        await using var again = await OpenAgainAsync();
        await again.MigrateAsync(Ct);
        Assert.Equal(versions, await again.SchemaVersionsAsync(Ct));
    }

    [Fact]
    public async Task Inserting_the_same_alerts_again_stores_each_once()
    {
        var agent = Agent("idem");
        var batch = Enumerable.Range(0, 50).Select(i => Stored(agent, $"/etc/f{i}", T0.AddSeconds(i))).ToList();
        var (rowsBefore, _) = await Store.TallyAsync(Ct);
        Assert.Equal(50, await Store.InsertAsync(batch, Ct));
        // A redelivered batch, and one that repeats an alert inside itself.
        Assert.Equal(0, await Store.InsertAsync(batch, Ct));
        Assert.Equal(0, await Store.InsertAsync([batch[3], batch[3], batch[7]], Ct));
        await using var other = await OpenAgainAsync();
        Assert.Equal(0, await other.InsertAsync(batch[..10], Ct));
        var (rows, distinct) = await Store.TallyAsync(Ct);
        Assert.Equal(rowsBefore + 50, rows);
        Assert.Equal(rows, distinct);
        var page = await Store.SearchAsync(new AlertQuery { AgentId = agent, Limit = 1000 }, Ct);
        Assert.Equal(50, page.Rows.Count);
    }

    [Fact]
    public async Task Every_filter_selects_exactly_its_alerts()
    {
        var a = Agent("flt-a");
        var b = Agent("flt-b");
        var rows = new[]
        {
            Alert(a, "/etc/ssh/sshd_config", T0.AddMinutes(1), level: 10, rule: "553", kind: "deleted", exe: "/usr/bin/vim", user: "alice", ns: "payments", pod: "api-1"),
            Alert(a, "/etc/ssh/ssh_config", T0.AddMinutes(2), level: 5, rule: "554", kind: "added", exe: "/usr/bin/cp", user: "bob"),
            Alert(a, "/etc/passwd", T0.AddMinutes(3), level: 12, rule: "550", ns: "payments", pod: "api-2"),
            Alert(b, "/etc/ssh/sshd_config", T0.AddMinutes(4), level: 3, rule: "550", host: "special-host", ns: "web", pod: "api-1"),
            Alert(b, "/var/log/x", T0.AddMinutes(5), level: 15, rule: "556"),
        };
        await Store.InsertAsync([.. rows.Select(Stored)], Ct);
        async Task Expect(AlertQuery q, params int[] expected)
        {
            var got = await SearchAllAsync(q with { Limit = 100 });
            var mine = got.Where(x => x.AgentId == a || x.AgentId == b).Select(x => Array.IndexOf(rows.Select(r => r.AlertId).ToArray(), x.AlertId)).ToList();
            Assert.Equal(expected.OrderByDescending(i => i).ToList(), mine);
        }
        var range = new AlertQuery { Since = T0, Until = T0.AddHours(1) };
        await Expect(range, 0, 1, 2, 3, 4);
        await Expect(range with { AgentId = a }, 0, 1, 2);
        await Expect(range with { Host = "special-host" }, 3);
        await Expect(range with { Path = "/etc/ssh/sshd_config" }, 0, 3);
        await Expect(range with { Path = "/etc/ssh/sshd_config", AgentId = b }, 3);
        await Expect(range with { Path = "/etc/ssh/", PathMatch = PathMatch.Prefix }, 0, 1, 3);
        await Expect(range with { Path = "/etc/*_config", PathMatch = PathMatch.Glob }, 0, 1, 3);
        await Expect(range with { Path = "/etc/ssh/ssh?_config", PathMatch = PathMatch.Glob }, 0, 3);
        await Expect(range with { Path = "*/x", PathMatch = PathMatch.Glob }, 4);
        await Expect(range with { MinLevel = 10 }, 0, 2, 4);
        await Expect(range with { MinLevel = 5, MaxLevel = 12 }, 0, 1, 2);
        await Expect(range with { RuleId = "550" }, 2, 3);
        await Expect(range with { Kind = "deleted" }, 0);
        await Expect(range with { Actor = "/usr/bin/vim" }, 0);
        await Expect(range with { Actor = "bob" }, 1);
        await Expect(range with { Namespace = "payments" }, 0, 2);
        await Expect(range with { Namespace = "payments", Pod = "api-1" }, 0);
        await Expect(range with { Pod = "api-1" }, 0, 3);
        await Expect(range with { Since = T0.AddMinutes(2), Until = T0.AddMinutes(4) }, 1, 2);
    }

    [Fact]
    public async Task Pages_walk_newest_first_with_a_cursor_without_gaps_or_repeats_even_when_times_tie()
    {
        var agent = Agent("page");
        // Five alerts share each timestamp: the alert id breaks ties.
        var all = Enumerable.Range(0, 25).Select(i => Stored(agent, $"/etc/p{i}", T0.AddSeconds(i / 5))).ToList();
        await Store.InsertAsync(all, Ct);
        var seen = new List<AlertRow>();
        AlertCursor? cursor = null;
        var pages = 0;
        do
        {
            var page = await Store.SearchAsync(new AlertQuery { AgentId = agent, Limit = 10, After = cursor }, Ct);
            seen.AddRange(page.Rows);
            cursor = page.Next is { } next && AlertCursor.TryDecode(next.Encode(), out var decoded) ? decoded : null;
            pages++;
        }
        while (cursor is not null);
        Assert.Equal(3, pages);
        Assert.Equal(25, seen.Select(r => r.AlertId).Distinct().Count());
        var expected = all.OrderByDescending(r => r.ObservedAtMicros).ThenByDescending(r => r.AlertId, StringComparer.Ordinal).Select(r => r.AlertId);
        Assert.Equal(expected, seen.Select(r => r.AlertId));

        var oldest = await Store.SearchAsync(new AlertQuery { AgentId = agent, Limit = 10, OldestFirst = true }, Ct);
        Assert.Equal(expected.Reverse().Take(10), oldest.Rows.Select(r => r.AlertId));
        var rest = await Store.SearchAsync(new AlertQuery { AgentId = agent, Limit = 100, OldestFirst = true, After = oldest.Next }, Ct);
        Assert.Equal(expected.Reverse().Skip(10), rest.Rows.Select(r => r.AlertId));
        Assert.Null(rest.Next);
    }

    public static TheoryData<string, PathMatch, string[]> LiteralFilters => new()
    {
        { "/lit/a%b", PathMatch.Exact, ["/lit/a%b"] },
        { "/lit/a%", PathMatch.Prefix, ["/lit/a%b"] },
        { "/lit/a_", PathMatch.Prefix, ["/lit/a_b"] },
        { "/lit/a%*", PathMatch.Glob, ["/lit/a%b"] },
        { "/lit/a_*", PathMatch.Glob, ["/lit/a_b"] },
        { "/lit/a?b", PathMatch.Glob, ["/lit/a%b", "/lit/a_b", "/lit/axb"] },
        { "/lit/it's", PathMatch.Exact, ["/lit/it's"] },
        { "*'s", PathMatch.Glob, ["/lit/it's"] },
        { "/lit/q\"", PathMatch.Prefix, ["/lit/q\"uote"] },
        { "/lit/back\\slash", PathMatch.Exact, ["/lit/back\\slash"] },
        { "/lit/back\\", PathMatch.Prefix, ["/lit/back\\slash"] },
        { "/lit/back\\\\*", PathMatch.Glob, ["/lit/back\\slash"] },
        { "/lit/[x]", PathMatch.Exact, ["/lit/[x]"] },
        { "/lit/[x*", PathMatch.Glob, ["/lit/[x]"] },
        { "/lit/\\*star", PathMatch.Glob, ["/lit/*star"] },
        { "/lit/'; DROP TABLE alerts; --", PathMatch.Prefix, [] },
        { "/lit/a\0b", PathMatch.Exact, [] },
        { "/lit/a\0", PathMatch.Prefix, [] },
        { "/lit/*\0*", PathMatch.Glob, [] },
    };

    [Theory]
    [MemberData(nameof(LiteralFilters))]
    public async Task Path_filters_match_quotes_percent_underscore_backslash_and_NUL_literally(string filter, PathMatch match, string[] expected)
    {
        var agent = Agent("lit");
        string[] paths = ["/lit/a%b", "/lit/a_b", "/lit/axb", "/lit/it's", "/lit/q\"uote", "/lit/back\\slash", "/lit/back/slash", "/lit/[x]", "/lit/*star", "/lit/xstar"];
        await Store.InsertAsync([.. paths.Select(p => Stored(agent, p, T0))], Ct);
        var got = await SearchAllAsync(new AlertQuery { AgentId = agent, Path = filter, PathMatch = match });
        Assert.Equal(expected.Order(StringComparer.Ordinal), got.Select(a => a.Path).Order(StringComparer.Ordinal));
        var (rows, _) = await Store.TallyAsync(Ct);
        Assert.True(rows >= paths.Length, "the table is still there");
    }

    [Fact]
    public async Task Counts_group_by_level_rule_agent_or_namespace_per_time_bucket()
    {
        var a = Agent("cnt-a");
        var b = Agent("cnt-b");
        var hour = new DateTimeOffset(T0.Year, T0.Month, T0.Day, T0.Hour, 0, 0, TimeSpan.Zero);
        await Store.InsertAsync([
            Stored(a, "/c/1", hour.AddMinutes(1), level: 7, ns: "payments"),
            Stored(a, "/c/2", hour.AddMinutes(59), level: 7, rule: "554"),
            Stored(b, "/c/3", hour.AddMinutes(61), level: 12, ns: "payments"),
            Stored(b, "/c/4", hour.AddMinutes(62), level: 7),
        ], Ct);
        var filter = new AlertQuery { Since = hour, Until = hour.AddHours(2), Path = "/c/", PathMatch = PathMatch.Prefix };
        var byLevel = await Store.CountAsync(new CountQuery(filter, CountKey.Level, TimeSpan.FromHours(1)), Ct);
        Assert.Equal([new CountRow(hour, "7", 2), new CountRow(hour.AddHours(1), "12", 1), new CountRow(hour.AddHours(1), "7", 1)], byLevel);
        var byAgent = await Store.CountAsync(new CountQuery(filter, CountKey.Agent, TimeSpan.FromDays(1)), Ct);
        Assert.Equal(2, byAgent.Single(r => r.Key == a).Count);
        Assert.Equal(2, byAgent.Single(r => r.Key == b).Count);
        var byRule = await Store.CountAsync(new CountQuery(filter with { AgentId = a }, CountKey.Rule, TimeSpan.FromHours(2)), Ct);
        Assert.Equal(["550:1", "554:1"], byRule.Select(r => $"{r.Key}:{r.Count}"));
        var byNamespace = await Store.CountAsync(new CountQuery(filter, CountKey.Namespace, TimeSpan.FromHours(2)), Ct);
        Assert.Equal([":2", "payments:2"], byNamespace.Select(r => $"{r.Key}:{r.Count}"));
    }

    [Fact]
    public async Task Retention_removes_alerts_older_than_the_cutoff_and_keeps_the_rest()
    {
        var agent = Agent("ret");
        var now = DateTimeOffset.UtcNow;
        await Store.InsertAsync([
            Stored(agent, "/r/ancient", now.AddDays(-500)),
            Stored(agent, "/r/old", now.AddDays(-450)),
            Stored(agent, "/r/recent", now.AddDays(-10)),
            Stored(agent, "/r/now", now),
        ], Ct);
        await Store.MaintainAsync(now.AddDays(-400), now, Ct);
        var left = await SearchAllAsync(new AlertQuery { AgentId = agent });
        Assert.Equal(["/r/now", "/r/recent"], left.Select(a => a.Path));
    }

    [Fact]
    public async Task Rollup_counts_equal_counts_of_the_stored_alerts_after_redeliveries_and_retention()
    {
        var (store, sql) = await OpenFreshAsync();
        await using var _ = store;
        var now = new DateTimeOffset(2040, 6, 15, 12, 30, 0, TimeSpan.Zero);
        var r = new Random(16);
        string[] agents = ["roll-a", "roll-b", "roll-c"];
        int[] levels = [3, 5, 7, 10, 12];
        var alerts = Enumerable.Range(0, 900).Select(i => Stored(Alert(agents[i % 3], $"/roll/{i % 7}",
            // Two thirds over 500 days (retention cuts into them), a third in the last 6 hours (several per hour and key).
            i % 3 == 0 ? now.AddMinutes(-r.Next(0, 360)) : now.AddMinutes(-r.Next(0, 500 * 24 * 60)).AddSeconds(-r.Next(60)),
            level: levels[r.Next(levels.Length)], rule: r.Next(2) == 0 ? "550" : "554", ns: r.Next(3) switch { 0 => null, 1 => "payments", _ => "web" }))).ToList();

        // New batches, each batch again, a batch repeating an alert inside itself, and batches half stored, half new.
        for (var i = 0; i < 600; i += 100)
        {
            Assert.Equal(100, await store.InsertAsync(alerts[i..(i + 100)], Ct));
        }
        Assert.Equal(0, await store.InsertAsync(alerts[..100], Ct));
        Assert.Equal(0, await store.InsertAsync([alerts[5], alerts[5], alerts[6]], Ct));
        Assert.Equal(300, await store.InsertAsync(alerts[300..900], Ct));
        Assert.Equal(0, await store.InsertAsync(alerts, Ct));
        await AssertRollupMatchesAsync(store, now);

        // Retention: on PostgreSQL rows leave the default partition (decremented), then whole partitions are dropped.
        await store.MaintainAsync(now.AddDays(-400), now, Ct);
        await AssertRollupMatchesAsync(store, now);
        await store.MaintainAsync(now.AddDays(-300).AddMinutes(17), now, Ct);
        await AssertRollupMatchesAsync(store, now);
        var (left, _) = await store.TallyAsync(Ct);
        Assert.InRange(left, 301, 899);

        // Redelivered after retention: alerts past it come back, and are counted once again.
        await store.InsertAsync(alerts, Ct);
        await AssertRollupMatchesAsync(store, now);

        // The counts really come from the rollup: with the alerts gone behind the store's back, whole hours still count.
        var hour = new DateTimeOffset(2040, 6, 15, 11, 0, 0, TimeSpan.Zero);
        var fleet = new CountQuery(new AlertQuery { Since = hour.AddDays(-30), Until = hour }, CountKey.Level, TimeSpan.FromHours(1));
        var before = await store.CountAsync(fleet, Ct);
        Assert.NotEmpty(before);
        await sql("DELETE FROM alerts");
        Assert.Equal(before, await store.CountAsync(fleet, Ct));
        Assert.Empty(await store.CountAsync(fleet with { Filter = fleet.Filter with { Path = "/", PathMatch = PathMatch.Prefix } }, Ct));
    }

    /// <summary>Counts the rollup can serve equal the same counts computed from the alerts (a path filter forces that).</summary>
    private static async Task AssertRollupMatchesAsync(IAlertStore store, DateTimeOffset now)
    {
        AlertQuery[] filters =
        [
            new(),
            new() { Since = now.AddDays(-450).AddMinutes(17), Until = now.AddMinutes(13) },
            new() { Since = now.AddHours(-5).AddSeconds(1), Until = now.AddMinutes(-7), AgentId = "roll-a" },
            new() { Since = now.AddDays(-450), Until = now.AddHours(1), MinLevel = 7 },
            new() { Since = now.AddDays(-450).AddMinutes(59), Until = now, MinLevel = 5, MaxLevel = 10, RuleId = "554" },
            new() { Since = now.AddDays(-450), Until = now.AddMinutes(1), Namespace = "payments" },
            new() { Since = now.AddDays(-450), Until = now.AddMinutes(1), Namespace = "web", AgentId = "roll-b", MinLevel = 10 },
        ];
        foreach (var filter in filters)
        {
            foreach (var key in Enum.GetValues<CountKey>())
            {
                foreach (var bucket in (TimeSpan[])[TimeSpan.FromHours(1), TimeSpan.FromHours(24)])
                {
                    var q = new CountQuery(filter, key, bucket);
                    var rollup = Sorted(await store.CountAsync(q, Ct));
                    var raw = Sorted(await store.CountAsync(q with { Filter = filter with { Path = "/", PathMatch = PathMatch.Prefix } }, Ct));
                    Assert.True(raw.SequenceEqual(rollup), $"{filter} by {key} per {bucket}: raw [{string.Join(", ", raw)}] rollup [{string.Join(", ", rollup)}]");
                }
            }
        }
        static List<string> Sorted(IEnumerable<CountRow> rows) =>
            [.. rows.Select(r => $"{r.BucketStart:O} {r.Key}={r.Count}").Order(StringComparer.Ordinal)];
    }
}

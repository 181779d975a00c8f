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

    /// <summary>A store on a new, empty database, a way to run SQL on that database behind the store's back, and another store on it.</summary>
    protected abstract Task<(IAlertStore Store, Func<string, Task> Sql, Func<IAlertStore> Reopen)> OpenFreshAsync();

    private static CancellationToken Ct => CancellationToken.None;

    /// <summary>
    /// Each migration once, in order: 1 alerts, 2 reviews, 3 audit log, 4 scans, 5 count rollups, 6 labels and package,
    /// 7 source; PostgreSQL also 8, the rollup deltas.
    /// </summary>
    protected virtual int[] SchemaVersions => [1, 2, 3, 4, 5, 6, 7];

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
        Assert.Equal(SchemaVersions, versions);
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
        await Expect(range with { Source = "realtime" }, 0, 1, 2, 3, 4);
        await Expect(range with { Source = "falco" });
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
        var (store, sql, _) = await OpenFreshAsync();
        await using var __ = store;
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
        // Nor do the label and package filters (the rollup has no such columns): each would match every alert here.
        Assert.Empty(await store.CountAsync(fleet with { Filter = fleet.Filter with { Selector = Selector("!env") } }, Ct));
        Assert.Empty(await store.CountAsync(fleet with { Filter = fleet.Filter with { PackageUpdate = false } }, Ct));
        Assert.NotNull(CountRollup.Plan(fleet));
        Assert.Null(CountRollup.Plan(fleet with { Filter = fleet.Filter with { Selector = Selector("!env") } }));
        Assert.Null(CountRollup.Plan(fleet with { Filter = fleet.Filter with { PackageUpdate = true } }));
        Assert.Null(CountRollup.Plan(fleet with { Filter = fleet.Filter with { Package = "openssl" } }));
    }

    private static LabelSelector Selector(string text) =>
        LabelSelectorText.Parse(text, out var problem) ?? throw new ArgumentException(problem, nameof(text));

    private static PackageInfo Package(string name, bool verified) => new() { Manager = PackageInfo.Dpkg, Name = name, Verified = verified };

    /// <summary>Alerts with different agent labels and packages, for the selector and package filters (a window of their own).</summary>
    private static Alert[] LabelledAlerts(string a, string b, string c, DateTimeOffset at) =>
    [
        Alert(a, "/lbl/0", at.AddMinutes(1), labels: new() { ["env"] = "prod", ["tier"] = "web" }, package: Package("openssl", true)),
        Alert(a, "/lbl/1", at.AddMinutes(2), level: 10, labels: new() { ["env"] = "prod", ["tier"] = "api", ["canary"] = "yes" }, package: Package("openssl", false)),
        Alert(b, "/lbl/2", at.AddMinutes(3), labels: new() { ["env"] = "staging", ["tier"] = "web" }, package: Package("lib'%_\\x\"", true)),
        Alert(b, "/lbl/3", at.AddMinutes(4)),
        Alert(c, "/lbl/4", at.AddMinutes(5), labels: new() { ["env"] = "prod", ["team.example.com/owner"] = "payments" }, package: Package("libc6:amd64", true)),
        // A label whose value holds a line feed and '=' must not pass for the labels it spells.
        Alert(c, "/lbl/5", at.AddMinutes(6), labels: new() { ["note"] = "x\nenv=prod\n", ["a=b"] = "%" }),
    ];

    private static async Task ExpectAsync(IAlertStore store, Alert[] rows, AlertQuery q, params int[] expected)
    {
        var page = await store.SearchAsync(q with { Limit = 1000 }, Ct);
        var ids = rows.Select(r => r.AlertId).ToList();
        var got = page.Rows.Select(r => ids.IndexOf(r.AlertId)).Where(i => i >= 0).ToList();
        Assert.True(expected.OrderByDescending(i => i).SequenceEqual(got), $"{q}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", got)}]");
    }

    [Fact]
    public async Task Label_selector_and_package_filters_select_exactly_their_alerts()
    {
        var (a, b, c) = (Agent("sel-a"), Agent("sel-b"), Agent("sel-c"));
        var at = T0.AddHours(7);
        var rows = LabelledAlerts(a, b, c, at);
        await Store.InsertAsync([.. rows.Select(Stored)], Ct);
        var range = new AlertQuery { Since = at, Until = at.AddHours(1) };
        Task Expect(AlertQuery q, params int[] expected) => ExpectAsync(Store, rows, q, expected);

        await Expect(range, 0, 1, 2, 3, 4, 5);
        await Expect(range with { Selector = Selector("env=prod") }, 0, 1, 4);
        await Expect(range with { Selector = Selector("env==prod") }, 0, 1, 4);
        await Expect(range with { Selector = Selector("env!=prod") }, 2, 3, 5);
        await Expect(range with { Selector = Selector("env in (prod,staging)") }, 0, 1, 2, 4);
        await Expect(range with { Selector = Selector("env notin (prod,staging)") }, 3, 5);
        await Expect(range with { Selector = Selector("canary") }, 1);
        await Expect(range with { Selector = Selector("!canary") }, 0, 2, 3, 4, 5);
        await Expect(range with { Selector = Selector("env") }, 0, 1, 2, 4);
        await Expect(range with { Selector = Selector("!env") }, 3, 5);
        await Expect(range with { Selector = Selector("env=prod,!canary") }, 0, 4);
        await Expect(range with { Selector = Selector("tier=web,env=prod") }, 0);
        await Expect(range with { Selector = Selector("tier in (web, api),env notin (staging)") }, 0, 1);
        await Expect(range with { Selector = Selector("team.example.com/owner=payments") }, 4);
        await Expect(range with { Selector = Selector("note") }, 5);
        await Expect(range with { Selector = Selector("env=pro") }, []);
        await Expect(range with { Selector = Selector("nv=prod") }, []);
        await Expect(range with { Selector = Selector("") }, 0, 1, 2, 3, 4, 5);

        await Expect(range with { PackageUpdate = true }, 0, 2, 4);
        await Expect(range with { PackageUpdate = false }, 1, 3, 5);
        await Expect(range with { Package = "openssl" }, 0, 1);
        await Expect(range with { Package = "openssl", PackageUpdate = true }, 0);
        await Expect(range with { Package = "libc6:amd64" }, 4);
        await Expect(range with { Package = "libc6" }, []);
        // Quotes, '%', '_' and backslashes are themselves; NUL matches nothing.
        await Expect(range with { Package = "lib'%_\\x\"" }, 2);
        await Expect(range with { Package = "lib'%" }, []);
        await Expect(range with { Package = "openss_" }, []);
        await Expect(range with { Package = "%" }, []);
        await Expect(range with { Package = "lib'%_\\x\"\0" }, []);
        await Expect(range with { Host = "h\0" }, []);
        await Expect(range with { RuleId = "\0", Actor = "root\0" }, []);
        await Expect(range with { Package = "' OR 1=1 --" }, []);

        await Expect(range with { Selector = Selector("env=prod"), PackageUpdate = false }, 1);
        await Expect(range with { Selector = Selector("env=prod"), AgentId = c }, 4);
        await Expect(range with { Selector = Selector("tier=web"), PackageUpdate = true, MinLevel = 7, Path = "/lbl/", PathMatch = PathMatch.Prefix }, 0, 2);
        await Expect(range with { Selector = Selector("env=prod"), MinLevel = 10 }, 1);

        // Counts take the same filters (from the alerts, never the rollup).
        var counts = await Store.CountAsync(new CountQuery(range with { Selector = Selector("env=prod") }, CountKey.Agent, TimeSpan.FromHours(1)), Ct);
        Assert.Equal([$"{a}:2", $"{c}:1"], counts.Where(r => r.Key == a || r.Key == c).Select(r => $"{r.Key}:{r.Count}").Order(StringComparer.Ordinal));
        Assert.DoesNotContain(counts, r => r.Key == b);
        var updates = await Store.CountAsync(new CountQuery(range with { PackageUpdate = true, Selector = Selector("env") }, CountKey.Level, TimeSpan.FromHours(1)), Ct);
        Assert.Equal(3, updates.Sum(r => r.Count));

        // Review by search takes them too.
        var reviews = Assert.IsAssignableFrom<IAlertReviews>(Store);
        var review = new StoredReview(ReviewStates.Expected, "test", Micros.From(DateTimeOffset.UtcNow), null);
        Assert.Equal(2, await reviews.ReviewMatchingAsync(range with { Selector = Selector("env=prod"), PackageUpdate = true }, review, Ct));
        await Expect(range with { ReviewState = ReviewStates.Expected }, 0, 4);
        Assert.Equal(1, await reviews.ReviewMatchingAsync(range with { Package = "lib'%_\\x\"" }, review, Ct));
        await Expect(range with { ReviewState = ReviewStates.Expected }, 0, 2, 4);
    }

    [Fact]
    public async Task Security_alerts_are_searchable_by_source_alongside_file_alerts()
    {
        var a = Agent("src");
        var at = T0.AddHours(3);
        var file = Alert(a, "/etc/passwd", at);
        var falco = Security(a, at.AddMinutes(1), SecurityRecord.Falco, "705");
        var prowler = Security(a, at.AddMinutes(2), SecurityRecord.Prowler, "721");
        Alert[] rows = [file, falco, prowler];
        await Store.InsertAsync([.. rows.Select(Stored)], Ct);
        var range = new AlertQuery { Since = at, Until = at.AddHours(1), AgentId = a };
        await ExpectAsync(Store, rows, range, 0, 1, 2);
        await ExpectAsync(Store, rows, range with { Source = "falco" }, 1);
        await ExpectAsync(Store, rows, range with { Source = "prowler" }, 2);
        await ExpectAsync(Store, rows, range with { Source = "realtime" }, 0);
        await ExpectAsync(Store, rows, range with { Kind = "security", MinLevel = 6 }, 2);
        var stored = (await SearchAllAsync(range with { Source = "prowler" })).Single();
        Assert.Equal("arn:aws:s3:::b", stored.Record!.Resource);
        // Counts with a source filter are counted from the alerts (the hourly rollup has no source).
        var counts = await Store.CountAsync(new CountQuery(range with { Source = "falco" }, CountKey.Rule, TimeSpan.FromHours(1)), Ct);
        Assert.Equal("705", Assert.Single(counts).Key);
    }

    private static Alert Security(string agent, DateTimeOffset at, string format, string rule)
    {
        var alert = Alert(agent, $"/var/log/{format}.json", at, level: rule == "705" ? 5 : 11, rule: rule, kind: FileEvent.SecurityKind);
        alert.Source = format;
        alert.Record = new SecurityRecord { Format = format, Title = "t", Severity = "High", Resource = "arn:aws:s3:::b", Fields = { ["severity"] = "High" } };
        return alert;
    }

    [Fact]
    public async Task Migration_7_fills_the_source_of_alerts_stored_before_it()
    {
        var (store, sql, reopen) = await OpenFreshAsync();
        var a = Agent("mig7");
        var at = T0.AddHours(10);
        Alert[] rows = [Alert(a, "/etc/x", at), Security(a, at.AddMinutes(1), SecurityRecord.Falco, "705")];
        await using (store)
        {
            await store.InsertAsync([.. rows.Select(Stored)], Ct);
        }
        foreach (var statement in (string[])["DROP INDEX alerts_source_time_id", "ALTER TABLE alerts DROP COLUMN source", "DELETE FROM schema_version WHERE version = 7"])
        {
            await sql(statement);
        }
        await using var upgraded = reopen();
        await upgraded.MigrateAsync(Ct);
        var range = new AlertQuery { Since = at, Until = at.AddHours(1), AgentId = a };
        await ExpectAsync(upgraded, rows, range with { Source = "falco" }, 1);
        await ExpectAsync(upgraded, rows, range with { Source = "realtime" }, 0);
    }

    [Fact]
    public async Task Migration_6_fills_labels_and_package_of_alerts_stored_at_version_5_from_their_JSON()
    {
        var (store, sql, reopen) = await OpenFreshAsync();
        var (a, b, c) = (Agent("mig-a"), Agent("mig-b"), Agent("mig-c"));
        var at = T0.AddHours(9);
        var rows = LabelledAlerts(a, b, c, at);
        await using (store)
        {
            await store.InsertAsync([.. rows.Select(Stored)], Ct);
        }
        // Back to version 5 as it was: the alerts table without the three columns, and no record of 6.
        foreach (var statement in (string[])["ALTER TABLE alerts DROP COLUMN labels", "ALTER TABLE alerts DROP COLUMN package",
            "ALTER TABLE alerts DROP COLUMN package_verified", "DELETE FROM schema_version WHERE version = 6"])
        {
            await sql(statement);
        }
        await using var upgraded = reopen();
        await upgraded.MigrateAsync(Ct);
        Assert.Equal(SchemaVersions, await upgraded.SchemaVersionsAsync(Ct));
        var range = new AlertQuery { Since = at, Until = at.AddHours(1) };
        Task Expect(AlertQuery q, params int[] expected) => ExpectAsync(upgraded, rows, q, expected);
        await Expect(range, 0, 1, 2, 3, 4, 5);
        await Expect(range with { Selector = Selector("env=prod") }, 0, 1, 4);
        await Expect(range with { Selector = Selector("env notin (prod,staging)") }, 3, 5);
        await Expect(range with { Selector = Selector("!canary,tier") }, 0, 2);
        await Expect(range with { Selector = Selector("team.example.com/owner=payments") }, 4);
        await Expect(range with { Selector = Selector("note") }, 5);
        await Expect(range with { PackageUpdate = true }, 0, 2, 4);
        await Expect(range with { PackageUpdate = false }, 1, 3, 5);
        await Expect(range with { Package = "lib'%_\\x\"" }, 2);
        await Expect(range with { Package = "openssl", PackageUpdate = false }, 1);

        // New alerts after the upgrade are searchable alike.
        var later = LabelledAlerts(a, b, c, at.AddMinutes(30));
        await upgraded.InsertAsync([.. later.Select(Stored)], Ct);
        await ExpectAsync(upgraded, later, range with { Selector = Selector("env=prod"), PackageUpdate = true }, 0, 4);
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

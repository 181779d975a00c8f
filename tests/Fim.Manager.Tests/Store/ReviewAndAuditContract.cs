using Fim.Manager.Store;
using static Fim.Manager.Tests.Store.StoreTestAlerts;

namespace Fim.Manager.Tests.Store;

/// <summary>A database of its own for audit tests (they tamper with it), with raw SQL access.</summary>
public sealed record AuditDatabase(SqlAlertStore Store, Func<SqlAlertStore> OpenAgain, Func<string, Task> ExecuteAsync, Func<string, Task> TamperAsync);

/// <summary>
/// Reviews and the audit log on every backend (SqliteReviewAndAuditTests, PostgresReviewAndAuditTests). Review tests share
/// the class's database and keep apart by agent id; audit tests each get a fresh database.
/// </summary>
public abstract class ReviewAndAuditContract
{
    private static readonly DateTimeOffset T0 = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddHours(-36);
    private static CancellationToken Ct => CancellationToken.None;

    protected abstract IAlertStore Store { get; }

    protected abstract Task<AuditDatabase> NewDatabaseAsync();

    private IAlertReviews Reviews => (IAlertReviews)Store;

    private static StoredReview Review(string state, string who, string? comment = null) =>
        new(state, who, Micros.From(DateTimeOffset.UtcNow), comment);

    private async Task<List<string>> IdsAsync(AlertQuery q)
    {
        var page = await Store.SearchAsync(q with { Since = T0.AddDays(-1), Until = T0.AddDays(1), Limit = 1000 }, Ct);
        return [.. page.Rows.Select(r => r.AlertId).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task A_review_sets_state_reviewer_time_and_comment_and_the_review_state_filter_selects_by_it()
    {
        var agent = Agent("rv");
        var alerts = Enumerable.Range(0, 4).Select(i => Alert(agent, $"/etc/r{i}", T0.AddMinutes(i))).ToList();
        await Store.InsertAsync([.. alerts.Select(Stored)], Ct);
        var ids = alerts.Select(a => a.AlertId).ToList();

        Assert.Equal(2, await Reviews.ReviewAsync([ids[0], ids[1], ids[1]], Review(ReviewStates.Expected, "alice", "patch day"), Ct));
        Assert.Equal(1, await Reviews.ReviewAsync([ids[2], "no-such-alert/550"], Review(ReviewStates.Incident, "bob"), Ct));

        var q = new AlertQuery { AgentId = agent };
        Assert.Equal([ids[3]], await IdsAsync(q with { ReviewState = ReviewStates.New }));
        Assert.Equal(ids[..2].Order(StringComparer.Ordinal), await IdsAsync(q with { ReviewState = ReviewStates.Expected }));
        Assert.Equal([ids[2]], await IdsAsync(q with { ReviewState = ReviewStates.Incident }));
        Assert.Empty(await IdsAsync(q with { ReviewState = ReviewStates.FalsePositive }));

        var rows = (await Store.SearchAsync(q with { Since = T0.AddDays(-1), Until = T0.AddDays(1) }, Ct)).Rows.ToDictionary(r => r.AlertId);
        Assert.Equal(new StoredReview(ReviewStates.Expected, "alice", rows[ids[0]].Review!.ReviewedAtMicros, "patch day"), rows[ids[0]].Review);
        Assert.True(Math.Abs(Micros.ToTime(rows[ids[0]].Review!.ReviewedAtMicros).Subtract(DateTimeOffset.UtcNow).TotalMinutes) < 5);
        Assert.Equal("bob", rows[ids[2]].Review!.Reviewer);
        Assert.Null(rows[ids[2]].Review!.Comment);
        Assert.Null(rows[ids[3]].Review);

        // Back to new: it counts as unreviewed again, and the row says who set it back.
        Assert.Equal(1, await Reviews.ReviewAsync([ids[0]], Review(ReviewStates.New, "carol"), Ct));
        Assert.Equal(new[] { ids[0], ids[3] }.Order(StringComparer.Ordinal), await IdsAsync(q with { ReviewState = ReviewStates.New }));
        var back = (await Reviews.GetAlertsAsync([ids[0]], Ct)).Single();
        Assert.Equal((ReviewStates.New, "carol"), (back.Review!.State, back.Review.Reviewer));

        var counts = await Store.CountAsync(new CountQuery(q with { Since = T0.AddDays(-1), Until = T0.AddDays(1), ReviewState = ReviewStates.Expected },
            CountKey.Level, TimeSpan.FromDays(30)), Ct);
        Assert.Equal(1, counts.Sum(c => c.Count));
        // Unreviewed counts in whole hours come from the rollup less the reviewed-away alerts: the same as alert by alert.
        foreach (var (key, bucket) in new[] { (CountKey.Level, TimeSpan.FromHours(1)), (CountKey.Agent, TimeSpan.FromDays(1)), (CountKey.Rule, TimeSpan.FromMinutes(7)) })
        {
            var unreviewed = await Store.CountAsync(new CountQuery(q with { Since = T0.AddDays(-1).AddMinutes(7), Until = T0.AddDays(1), ReviewState = ReviewStates.New },
                key, bucket), Ct);
            Assert.Equal(2, unreviewed.Sum(c => c.Count));
        }
    }

    [Fact]
    public async Task A_review_by_search_changes_every_match_and_nothing_else()
    {
        var agent = Agent("rvq");
        var other = Agent("rvq-other");
        var alerts = new[] { 3, 5, 10, 12, 15 }.Select((level, i) => Alert(agent, $"/etc/q{i}", T0.AddMinutes(i), level: level)).ToList();
        var elsewhere = Alert(other, "/etc/q9", T0.AddMinutes(9), level: 15);
        await Store.InsertAsync([.. alerts.Select(Stored), Stored(elsewhere)], Ct);

        var query = new AlertQuery { AgentId = agent, MinLevel = 10, Since = T0.AddDays(-1), Until = T0.AddDays(1) };
        Assert.Equal(3, await Reviews.ReviewMatchingAsync(query, Review(ReviewStates.FalsePositive, "alice", "noise"), Ct));
        Assert.Equal(alerts[2..].Select(a => a.AlertId).Order(StringComparer.Ordinal),
            await IdsAsync(new AlertQuery { AgentId = agent, ReviewState = ReviewStates.FalsePositive }));
        Assert.Equal([elsewhere.AlertId], await IdsAsync(new AlertQuery { AgentId = other, ReviewState = ReviewStates.New }));

        // A search that names a review state: only the still-unreviewed ones.
        Assert.Equal(2, await Reviews.ReviewMatchingAsync(new AlertQuery { AgentId = agent, ReviewState = ReviewStates.New, Since = T0.AddDays(-1), Until = T0.AddDays(1) },
            Review(ReviewStates.Expected, "bob"), Ct));
        Assert.Empty(await IdsAsync(new AlertQuery { AgentId = agent, ReviewState = ReviewStates.New }));
        // A path filter with a NUL matches nothing, so reviews nothing.
        Assert.Equal(0, await Reviews.ReviewMatchingAsync(query with { Path = "/etc/\0" }, Review(ReviewStates.Incident, "x"), Ct));
    }

    [Fact]
    public async Task Retention_removes_the_reviews_of_the_alerts_it_removes()
    {
        var agent = Agent("rvret");
        var old = Alert(agent, "/etc/old", T0.AddDays(-400));
        var recent = Alert(agent, "/etc/recent", T0);
        await Store.InsertAsync([Stored(old), Stored(recent)], Ct);
        Assert.Equal(2, await Reviews.ReviewAsync([old.AlertId, recent.AlertId], Review(ReviewStates.Expected, "alice"), Ct));

        await Store.MaintainAsync(T0.AddDays(-200), DateTimeOffset.UtcNow, Ct);

        Assert.Empty(await Reviews.GetAlertsAsync([old.AlertId], Ct));
        Assert.Equal(ReviewStates.Expected, (await Reviews.GetAlertsAsync([recent.AlertId], Ct)).Single().Review?.State);
        // Stored again (a replay of the stream): it comes back unreviewed, its old review went with it.
        await Store.InsertAsync([Stored(old)], Ct);
        Assert.Null((await Reviews.GetAlertsAsync([old.AlertId], Ct)).Single().Review);
    }

    private static AuditDraft Draft(int i, string? actor = null) => new(
        Micros.From(DateTimeOffset.UtcNow), actor ?? (i % 2 == 0 ? "alice" : "token:0123456789abcdef"), i % 2 == 0 ? "oidc" : "fim-api-token",
        i % 3 == 0 ? "fim.v1.FimManager/ReviewAlerts" : "fim.v1.FimManager/CreateApiToken", $"target-{i}", $"{{\"i\":{i},\"quote\":\"'\\\"\"}}",
        i % 2 == 0 ? "started" : "ok");

    private static async Task<IReadOnlyList<AuditRecord>> AppendAsync(IAuditStore store, int count)
    {
        var rows = new List<AuditRecord>();
        for (var i = 1; i <= count; i++)
        {
            rows.Add(await store.AppendAuditAsync(Draft(i), Ct));
        }
        return rows;
    }

    [Fact]
    public async Task Appends_form_a_gapless_chain_in_the_documented_encoding_and_list_pages_by_actor_action_and_time()
    {
        var db = await NewDatabaseAsync();
        await using var store = db.Store;
        var rows = await AppendAsync(store, 30);

        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), rows.Select(r => r.Sequence));
        Assert.Equal(AuditChain.Genesis, rows[0].PreviousHash);
        Assert.Equal(AuditChain.Hash(AuditChain.Genesis, 1, Draft(1) with { AtMicros = rows[0].AtMicros }), rows[0].Hash);
        // The encoding spelled out (docs/store.md): prev hash bytes, then each field length-prefixed (4 bytes, big-endian).
        var canonical = AuditChain.Canonical(1, rows[0].Draft);
        Assert.Equal(new byte[] { 0, 0, 0, 1, (byte)'1' }, canonical[..5]);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(new byte[32].Concat(canonical).ToArray())), rows[0].Hash);
        for (var i = 1; i < rows.Count; i++)
        {
            Assert.Equal(rows[i - 1].Hash, rows[i].PreviousHash);
        }
        var chain = await store.ReadAuditChainAsync(Ct);
        Assert.Equal(rows, chain);
        var verified = AuditChain.Verify(chain, new AuditCheckpoint(30, rows[^1].Hash));
        Assert.True(verified.Ok, verified.Detail);
        Assert.Equal((30L, 30L, rows[^1].Hash), (verified.Rows, verified.LastSequence, verified.LastHash));

        var all = new List<AuditRecord>();
        long? before = null;
        do
        {
            var page = await store.ListAuditAsync(new AuditQuery { Actor = "alice", Limit = 4, BeforeSequence = before }, Ct);
            all.AddRange(page.Entries);
            before = page.Next;
        }
        while (before is not null);
        Assert.Equal(rows.Where(r => r.Actor == "alice").Select(r => r.Sequence).Reverse(), all.Select(r => r.Sequence));

        var reviews = await store.ListAuditAsync(new AuditQuery { Actions = ["fim.v1.FimManager/ReviewAlerts"], Limit = 100 }, Ct);
        Assert.Equal(rows.Where(r => r.Action.EndsWith("ReviewAlerts", StringComparison.Ordinal)).Select(r => r.Sequence).Reverse(), reviews.Entries.Select(r => r.Sequence));
        var future = await store.ListAuditAsync(new AuditQuery { Since = DateTimeOffset.UtcNow.AddHours(1), Until = DateTimeOffset.UtcNow.AddHours(2) }, Ct);
        Assert.Empty(future.Entries);
    }

    [Fact]
    public async Task The_table_refuses_update_and_delete()
    {
        var db = await NewDatabaseAsync();
        await using var store = db.Store;
        await AppendAsync(store, 3);
        await Assert.ThrowsAnyAsync<Exception>(() => db.ExecuteAsync("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"));
        await Assert.ThrowsAnyAsync<Exception>(() => db.ExecuteAsync("DELETE FROM audit_log WHERE seq = 3"));
        Assert.True(AuditChain.Verify(await store.ReadAuditChainAsync(Ct), null).Ok);
    }

    [Fact]
    public async Task Two_writers_appending_at_once_keep_one_gapless_chain()
    {
        var db = await NewDatabaseAsync();
        await using var first = db.Store;
        await using var second = db.OpenAgain();
        await first.MigrateAsync(Ct);
        await Task.WhenAll(
            Task.Run(async () => { for (var i = 0; i < 60; i++) { await first.AppendAuditAsync(Draft(i, "writer-1"), Ct); } }),
            Task.Run(async () => { for (var i = 0; i < 60; i++) { await second.AppendAuditAsync(Draft(i, "writer-2"), Ct); } }));
        var chain = await first.ReadAuditChainAsync(Ct);
        Assert.Equal(Enumerable.Range(1, 120).Select(i => (long)i), chain.Select(r => r.Sequence));
        Assert.Equal(60, chain.Count(r => r.Actor == "writer-1"));
        var verified = AuditChain.Verify(chain, new AuditCheckpoint(120, chain[^1].Hash));
        Assert.True(verified.Ok, verified.Detail);
    }

    /// <summary>Ten rows, checkpoint at the last, then <paramref name="tamper"/> (with the append-only triggers off).</summary>
    private async Task<AuditVerification> TamperedAsync(string tamper)
    {
        var db = await NewDatabaseAsync();
        await using var store = db.Store;
        var rows = await AppendAsync(store, 10);
        Assert.True(AuditChain.Verify(await store.ReadAuditChainAsync(Ct), new AuditCheckpoint(10, rows[^1].Hash)).Ok);
        await db.TamperAsync(tamper);
        return AuditChain.Verify(await store.ReadAuditChainAsync(Ct), new AuditCheckpoint(10, rows[^1].Hash));
    }

    [Fact]
    public async Task An_edited_row_is_reported_as_edited_at_its_sequence()
    {
        var v = await TamperedAsync("UPDATE audit_log SET detail = '{\"i\":7,\"quote\":\"nothing to see\"}' WHERE seq = 7");
        Assert.False(v.Ok);
        Assert.Equal((7L, "edited"), (v.FirstBadSequence, v.Problem));
    }

    [Fact]
    public async Task An_edited_row_with_its_hash_recomputed_is_reported_at_that_row()
    {
        // Whoever recomputes row 4's hash breaks the link of row 5 (and, if they rewrite the rest, the checkpoint).
        var db = await NewDatabaseAsync();
        await using var store = db.Store;
        var rows = await AppendAsync(store, 10);
        var forged = rows[3].Draft with { Actor = "mallory" };
        await db.TamperAsync($"UPDATE audit_log SET actor = 'mallory', hash = '{AuditChain.Hash(rows[3].PreviousHash, 4, forged)}' WHERE seq = 4");
        var v = AuditChain.Verify(await store.ReadAuditChainAsync(Ct), new AuditCheckpoint(10, rows[^1].Hash));
        Assert.Equal((false, 4L, "edited"), (v.Ok, v.FirstBadSequence, v.Problem));
    }

    [Fact]
    public async Task A_deleted_middle_row_is_reported_as_deleted()
    {
        var v = await TamperedAsync("DELETE FROM audit_log WHERE seq = 5");
        Assert.False(v.Ok);
        Assert.Equal((5L, "deleted"), (v.FirstBadSequence, v.Problem));
    }

    [Fact]
    public async Task A_deleted_last_row_is_reported_as_truncated_against_the_checkpoint()
    {
        var v = await TamperedAsync("DELETE FROM audit_log WHERE seq = 10");
        Assert.False(v.Ok);
        Assert.Equal((10L, "truncated"), (v.FirstBadSequence, v.Problem));
        Assert.Equal(9, v.LastSequence);
    }

    [Fact]
    public async Task A_swapped_pair_is_reported_as_reordered()
    {
        var v = await TamperedAsync("UPDATE audit_log SET seq = -5 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 6; UPDATE audit_log SET seq = 6 WHERE seq = -5");
        Assert.False(v.Ok);
        Assert.Equal((5L, "reordered"), (v.FirstBadSequence, v.Problem));
    }

    [Fact]
    public async Task A_row_inserted_with_the_rest_renumbered_is_reported_as_inserted()
    {
        var db = await NewDatabaseAsync();
        await using var store = db.Store;
        var rows = await AppendAsync(store, 6);
        // A forged row 4 chained properly to row 3; the old 4..6 moved up by one.
        var forged = Draft(99, "mallory") with { AtMicros = rows[2].AtMicros };
        var hash = AuditChain.Hash(rows[2].Hash, 4, forged);
        await db.TamperAsync("UPDATE audit_log SET seq = seq + 100 WHERE seq >= 4; UPDATE audit_log SET seq = seq - 99 WHERE seq >= 100; "
            + $"INSERT INTO audit_log (seq, at, actor, auth_method, action, target, detail, outcome, prev_hash, hash) SELECT 4, at, 'mallory', '{forged.AuthMethod}', "
            + $"'{forged.Action}', '{forged.Target}', '{forged.Detail.Replace("'", "''", StringComparison.Ordinal)}', '{forged.Outcome}', '{rows[2].Hash}', '{hash}' FROM audit_log WHERE seq = 3");
        var v = AuditChain.Verify(await store.ReadAuditChainAsync(Ct), new AuditCheckpoint(6, rows[^1].Hash));
        Assert.Equal((false, "inserted"), (v.Ok, v.Problem));
        Assert.Equal(4, v.FirstBadSequence);
    }
}

extern alias ctl;
using System.Net;
using System.Text;
using System.Text.Json;
using ctl::Fim.Ctl;
using Fim.Api.V1;
using Fim.Manager.Options;
using Fim.Manager.Tests.Support;
using Fim.Testing;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Tests;

/// <summary>A manager with agents of two teams and an alert of each on /etc/passwd, plus one on /etc/shadow.</summary>
public sealed class ReviewAuditFixture : IAsyncLifetime
{
    public NatsFixture Nats { get; } = new();
    public TestManager Manager { get; private set; } = null!;
    public string Payments { get; } = TestEvents.NewAgentId("rpay");
    public string Web { get; } = TestEvents.NewAgentId("rweb");
    public string AdminSubject { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Nats.InitializeAsync();
        Manager = await TestManager.StartAsync(Nats.Server.Url);
        await Nats.Client.PutHeartbeatAsync(Payments, new Dictionary<string, string> { ["team"] = "payments" });
        await Nats.Client.PutHeartbeatAsync(Web, new Dictionary<string, string> { ["team"] = "web" });
        await Eventually.TrueAsync(() => Manager.Services.GetRequiredService<Agents.AgentDirectory>() is { } d
            && d.TryGet(Payments, out _) && d.TryGet(Web, out _), "heartbeats seen");
        await Nats.Client.PublishEventAsync(TestEvents.Event(Payments, "/etc/passwd", "modified"));
        await Nats.Client.PublishEventAsync(TestEvents.Event(Payments, "/etc/shadow", "added"));
        await Nats.Client.PublishEventAsync(TestEvents.Event(Web, "/etc/passwd", "modified"));
        await Manager.AwaitStoredAsync(3);
        using var me = JsonDocument.Parse(await Manager.Http.GetStringAsync("/me"));
        AdminSubject = me.RootElement.GetProperty("subject").GetString()!;
    }

    public async Task DisposeAsync()
    {
        await Manager.DisposeAsync();
        await Nats.DisposeAsync();
    }
}

public sealed class ReviewAuditTests(ReviewAuditFixture f) : IClassFixture<ReviewAuditFixture>
{
    private TestManager M => f.Manager;
    private string Server => $"http://127.0.0.1:{M.GrpcPort}";

    private async Task<Alert> AlertOfAsync(string agent, string path) =>
        (await M.Client.ListAlertsAsync(new ListAlertsRequest { AgentId = agent, Path = path })).Alerts.Single();

    [Fact]
    public async Task A_review_over_rest_and_a_token_creation_are_in_the_audit_log_with_their_actor_and_no_secret()
    {
        var alert = await AlertOfAsync(f.Payments, "/etc/shadow");
        var body = JsonSerializer.Serialize(new { state = "expected", comment = "package update CHG-42", alertIds = new[] { alert.AlertId } });
        var posted = await M.Http.PostAsync("/api/v1/alerts/review", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        using (var reply = JsonDocument.Parse(await posted.Content.ReadAsStringAsync()))
        {
            Assert.Equal("1", reply.RootElement.GetProperty("changed").ToString());
            Assert.Equal(f.AdminSubject, reply.RootElement.GetProperty("review").GetProperty("reviewer").GetString());
        }

        // The review is on the alert, in gRPC and REST, and the review_state filter finds it.
        var reviewed = await AlertOfAsync(f.Payments, "/etc/shadow");
        Assert.Equal(("expected", f.AdminSubject, "package update CHG-42"), (reviewed.Review.State, reviewed.Review.Reviewer, reviewed.Review.Comment));
        using (var rest = JsonDocument.Parse(await M.Http.GetStringAsync($"/api/v1/alerts?agentId={f.Payments}&reviewState=expected")))
        {
            var alerts = rest.RootElement.GetProperty("alerts").EnumerateArray().ToList();
            Assert.Equal(alert.AlertId, Assert.Single(alerts).GetProperty("alertId").GetString());
            Assert.Equal("expected", alerts[0].GetProperty("review").GetProperty("state").GetString());
        }
        var unreviewed = await M.Client.ListAlertsAsync(new ListAlertsRequest { AgentId = f.Payments, ReviewState = "new" });
        Assert.DoesNotContain(unreviewed.Alerts, a => a.AlertId == alert.AlertId);

        var created = await M.Client.CreateApiTokenAsync(new CreateApiTokenRequest { Name = "audited", Role = "viewer" });

        var log = await M.Client.ListAuditLogAsync(new ListAuditLogRequest { Limit = 1000 });
        var review = log.Entries.Where(e => e.Action == "fim.v1.FimManager/ReviewAlerts" && e.Target == alert.AlertId).ToList();
        Assert.Equal(["ok", "started"], review.Select(e => e.Outcome));
        Assert.All(review, e => Assert.Equal(f.AdminSubject, e.Actor));
        Assert.Contains("CHG-42", review[1].Detail);
        var token = log.Entries.Where(e => e.Action == "fim.v1.FimManager/CreateApiToken" && e.Target == "audited").ToList();
        Assert.Equal(["ok", "started"], token.Select(e => e.Outcome));
        Assert.All(token, e => Assert.Equal((f.AdminSubject, "oidc-bearer"), (e.Actor, e.AuthMethod)));
        // The outcome names the token created, never its secret.
        Assert.Contains(created.Token.TokenId, token[0].Detail);
        Assert.Contains("[redacted]", token[0].Detail);
        var secretPart = created.Secret[("fimt_".Length + 17)..];
        Assert.All(log.Entries, e => Assert.DoesNotContain(secretPart, e.Detail + e.Target));
        // Reads are not audited.
        Assert.DoesNotContain(log.Entries, e => e.Action.EndsWith("/ListAlerts", StringComparison.Ordinal));

        var verify = await M.Client.VerifyAuditLogAsync(new VerifyAuditLogRequest());
        Assert.True(verify.Ok, verify.Detail);
        Assert.Equal(verify.LastSequence, verify.CheckpointSequence);

        // fimctl: list by action and actor, and verify.
        var (code, output, _) = await RunAsync("audit", "list", "--action", "CreateApiToken", "--actor", f.AdminSubject, "--server", Server);
        Assert.Equal(Cli.Ok, code);
        Assert.Contains(output.Split('\n'), l => l.Contains("fim.v1.FimManager/CreateApiToken") && l.Contains("audited"));
        Assert.DoesNotContain("ReviewAlerts", output);
        (code, output, _) = await RunAsync("audit", "verify", "--server", Server);
        Assert.Equal(Cli.Ok, code);
        Assert.StartsWith("ok:", output);
    }

    [Theory]
    [InlineData("""{"state":"maybe","alertIds":["x"]}""", "state: must be one of new, expected, incident, false_positive")]
    [InlineData("""{"state":"expected","alertIds":[]}""", "alert_ids: is empty")]
    [InlineData("""{"state":"expected"}""", "alert_ids: is empty")]
    [InlineData("""{"state":"expected","filter":{}}""", "filter: name at least one filter besides since and until")]
    [InlineData("""{"state":"expected","filter":{"since":"2020-01-01T00:00:00Z"}}""", "filter: name at least one filter")]
    [InlineData("""{"state":"expected","filter":{"path":"/etc/passwd","cursor":"abc"}}""", "filter.cursor:")]
    [InlineData("""{"state":"expected","filter":{"path":"/etc/passwd","limit":5}}""", "filter.limit:")]
    [InlineData("""{"state":"expected","filter":{"reviewState":"done"}}""", "filter.review_state: must be one of")]
    [InlineData("""{"state":"expected","filter":{"pathGlob":"/etc/\\"}}""", "filter.path_glob:")]
    [InlineData("""{"state":"expected","alertIds":["x"],"filter":{"path":"/etc/passwd"}}""", "filter: give alert_ids or filter, not both")]
    public async Task Bad_review_requests_are_invalid_argument_naming_the_field(string body, string message)
    {
        var response = await M.Http.PostAsync("/api/v1/alerts/review", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_comment_over_the_cap_an_unknown_review_state_filter_and_an_unknown_alert_are_refused()
    {
        var alert = await AlertOfAsync(f.Payments, "/etc/passwd");
        var before = alert.Review;
        var e = await Assert.ThrowsAsync<RpcException>(() => M.Client.ReviewAlertsAsync(new ReviewAlertsRequest
        {
            State = "incident",
            Comment = new string('x', 2001),
            AlertIds = { alert.AlertId },
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("comment: must be at most 2000", e.Status.Detail);

        e = await Assert.ThrowsAsync<RpcException>(() => M.Client.ListAlertsAsync(new ListAlertsRequest { ReviewState = "reviewed" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("review_state:", e.Status.Detail);

        e = await Assert.ThrowsAsync<RpcException>(() => M.Client.ReviewAlertsAsync(new ReviewAlertsRequest
        {
            State = "incident",
            AlertIds = { alert.AlertId, "no-such-alert/550" },
        }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains("no-such-alert/550", e.Status.Detail);
        // All or nothing: the known alert was not reviewed either.
        Assert.Equal(before, (await AlertOfAsync(f.Payments, "/etc/passwd")).Review);

        e = await Assert.ThrowsAsync<RpcException>(() => M.Client.ListAuditLogAsync(new ListAuditLogRequest { Cursor = "x1" }).ResponseAsync);
        Assert.StartsWith("cursor:", e.Status.Detail);
        e = await Assert.ThrowsAsync<RpcException>(() => M.Client.ListAuditLogAsync(new ListAuditLogRequest { Action = "NoSuchMethod" }).ResponseAsync);
        Assert.StartsWith("action:", e.Status.Detail);
    }

    [Fact]
    public async Task A_team_scoped_analyst_reviews_only_the_alerts_its_grant_covers()
    {
        var token = (await M.Client.CreateApiTokenAsync(new CreateApiTokenRequest { Name = "payments-analyst", Role = "analyst", MatchLabels = { ["team"] = "payments" } })).Secret;
        var analyst = M.ClientWithToken(token);
        var web = await AlertOfAsync(f.Web, "/etc/passwd");
        var pay = await AlertOfAsync(f.Payments, "/etc/passwd");

        var e = await Assert.ThrowsAsync<RpcException>(() => analyst.ReviewAlertsAsync(new ReviewAlertsRequest { State = "incident", AlertIds = { web.AlertId } }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);

        var bulk = await analyst.ReviewAlertsAsync(new ReviewAlertsRequest { State = "false_positive", Filter = new ListAlertsRequest { Path = "/etc/passwd" } });
        Assert.Equal(1UL, bulk.Changed);
        Assert.Equal("token:" + token.Substring(5, 16), bulk.Review.Reviewer);
        Assert.Equal("false_positive", (await AlertOfAsync(f.Payments, "/etc/passwd")).Review.State);
        Assert.Null((await AlertOfAsync(f.Web, "/etc/passwd")).Review);
        Assert.NotEqual(pay.AlertId, web.AlertId);

        // A viewer may not review at all.
        var viewer = M.ClientAs(OidcProvider.Viewer);
        e = await Assert.ThrowsAsync<RpcException>(() => viewer.ReviewAlertsAsync(new ReviewAlertsRequest { State = "incident", AlertIds = { pay.AlertId } }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        // Nor may a scoped analyst read the audit log.
        e = await Assert.ThrowsAsync<RpcException>(() => analyst.ListAuditLogAsync(new ListAuditLogRequest()).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    [Fact]
    public async Task Fimctl_reviews_by_id_and_by_search_and_filters_by_review_state()
    {
        var alert = await AlertOfAsync(f.Payments, "/etc/passwd");
        var (code, output, error) = await RunAsync("alerts", "review", "--state", "incident", "--comment", "unexpected write", "--id", alert.AlertId, "--server", Server);
        Assert.True(code == Cli.Ok, error);
        Assert.StartsWith("1 alert(s) set to incident by " + f.AdminSubject, output);

        (code, output, _) = await RunAsync("alerts", "--agent", f.Payments, "--review-state", "incident", "--server", Server);
        Assert.Equal(Cli.Ok, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains("incident", lines[1]);
        Assert.Contains("/etc/passwd", lines[1]);

        (code, _, error) = await RunAsync("alerts", "review", "--state", "expected", "--server", Server);
        Assert.Equal(Cli.InvalidArgument, code);
        Assert.Contains("filter: name at least one filter", error);

        (code, output, _) = await RunAsync("alerts", "review", "--state", "new", "--agent", f.Payments, "--review-state", "incident", "--server", Server);
        Assert.Equal(Cli.Ok, code);
        Assert.StartsWith("1 alert(s) set to new", output);
        Assert.Equal("new", (await AlertOfAsync(f.Payments, "/etc/passwd")).Review.State);
    }

    private async Task<(int, string, string)> RunAsync(params string[] args)
    {
        var env = new Dictionary<string, string> { ["FIM_TOKEN"] = await M.Oidc.TokenAsync(OidcProvider.Admin) };
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await new Cli(stdout, stderr, name => env.GetValueOrDefault(name)).RunAsync(args);
        return (code, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>Tampering with the audit table of a real manager: fimctl audit verify names the row and exits non-zero.</summary>
public sealed class AuditTamperTests : IAsyncLifetime
{
    private readonly NatsFixture _nats = new();
    private TestManager _manager = null!;

    public async Task InitializeAsync()
    {
        await _nats.InitializeAsync();
        _manager = await TestManager.StartAsync(_nats.Server.Url);
    }

    public async Task DisposeAsync()
    {
        await _manager.DisposeAsync();
        await _nats.DisposeAsync();
    }

    [Fact]
    public async Task A_tampered_audit_row_and_a_deleted_last_row_are_reported_by_fimctl_audit_verify()
    {
        for (var i = 0; i < 3; i++)
        {
            await _manager.Client.CreateApiTokenAsync(new CreateApiTokenRequest { Name = $"t{i}", Role = "viewer" });
        }
        var server = $"http://127.0.0.1:{_manager.GrpcPort}";
        var (code, output, _) = await RunAsync("audit", "verify", "--server", server);
        Assert.True(code == Cli.Ok, output);
        Assert.StartsWith("ok: 6 rows", output);

        var file = _manager.Services.GetRequiredService<IOptions<StoreOptions>>().Value.SqlitePath;
        await ExecuteAsync(file, "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; "
            + "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3");
        (code, output, _) = await RunAsync("audit", "verify", "--server", server);
        Assert.Equal(Cli.AuditBroken, code);
        Assert.StartsWith("BROKEN at sequence 3: edited", output);

        await ExecuteAsync(file, "DELETE FROM audit_log WHERE seq >= 3");
        (code, output, _) = await RunAsync("audit", "verify", "--server", server, "--json");
        Assert.Equal(Cli.AuditBroken, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("truncated", json.RootElement.GetProperty("problem").GetString());
        Assert.Equal("3", json.RootElement.GetProperty("firstBadSequence").ToString());
    }

    private static async Task ExecuteAsync(string file, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<(int, string, string)> RunAsync(params string[] args)
    {
        var env = new Dictionary<string, string> { ["FIM_TOKEN"] = await _manager.Oidc.TokenAsync(OidcProvider.Admin) };
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await new Cli(stdout, stderr, name => env.GetValueOrDefault(name)).RunAsync(args);
        return (code, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>A manager whose store cannot be opened: mutating calls are refused, since they could not be audited.</summary>
public sealed class UnauditedCallTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    [Fact]
    public async Task A_call_whose_audit_row_cannot_be_written_is_not_run()
    {
        // Nothing can be created under /proc, not even by root: every store call fails.
        await using var manager = await TestManager.StartAsync(nats.Server.Url,
            new Dictionary<string, string?> { ["Fim:Store:DataDirectory"] = "/proc/fim-audit-nowhere" });
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            manager.Client.CreateApiTokenAsync(new CreateApiTokenRequest { Name = "unaudited", Role = "viewer" }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.StartsWith("audit log:", e.Status.Detail);
        Assert.DoesNotContain((await manager.Client.ListApiTokensAsync(new ListApiTokensRequest())).Tokens, t => t.Name == "unaudited");
    }
}

using System.Net;
using System.Text;
using System.Text.Json;
using Fim.Api.V1;
using Fim.Contracts;
using Alert = Fim.Api.V1.Alert;
using Fim.Manager.Tests.Support;
using Fim.Testing;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace Fim.Manager.Tests;

/// <summary>The ingest endpoint with a real manager, NATS and store: Falco's http_output and falcosidekick's posts become alerts.</summary>
public sealed class IngestTests : IAsyncLifetime
{
    private readonly NatsFixture _nats = new();
    private TestManager _manager = null!;
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

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

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private async Task<List<Alert>> FalcoAlertsAsync()
    {
        var page = await _manager.Client.ListAlertsAsync(new ListAlertsRequest
        {
            Source = SecurityRecord.Falco,
            Since = Timestamp.FromDateTimeOffset(Now.AddHours(-1)),
            Limit = 100,
        });
        return [.. page.Alerts];
    }

    private async Task<List<Alert>> AlertsWhenAsync(int count)
    {
        List<Alert> alerts = [];
        await Eventually.TrueAsync(async () => (alerts = await FalcoAlertsAsync()).Count >= count, $"{count} Falco alerts in the store");
        return alerts;
    }

    [Fact]
    public async Task Falco_posts_become_alerts_with_the_documented_levels_and_unauthenticated_posts_are_refused()
    {
        var shell = SecuritySamples.At(SecuritySamples.FalcoShell, Now.AddSeconds(-3));
        var critical = SecuritySamples.At(SecuritySamples.FalcoCritical, Now.AddSeconds(-2));

        // Refused before anything is stored: no credentials, and a caller that may only read.
        var anonymous = await _manager.AnonymousHttp.PostAsync("/api/v1/ingest/falco", Json(shell));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var viewer = await _manager.HttpAs(OidcProvider.Viewer).PostAsync("/api/v1/ingest/falco", Json(shell));
        Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);

        var falco = _manager.HttpAs(OidcProvider.Analyst);
        var first = await falco.PostAsync("/api/v1/ingest/falco", Json(shell));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(1, JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("accepted").GetInt32());
        // falcosidekick's webhook: the same object with its uuid; sent twice (a retry), stored once.
        var sidekick = critical.Insert(1, "\"uuid\":\"4b9c1f0e-2d7a-4c43-9b1e-6f2a8d3c5e71\",");
        Assert.Equal(HttpStatusCode.OK, (await falco.PostAsync("/api/v1/ingest/falco", Json(sidekick))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await falco.PostAsync("/api/v1/ingest/falco", Json(sidekick))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await falco.PostAsync("/api/v1/ingest/falco", Json(shell))).StatusCode);

        await _manager.AwaitStoredAsync(2);
        var alerts = await AlertsWhenAsync(2);
        // Let a late duplicate show itself if there were one: the store's count must stay at two.
        await _manager.AwaitStoredAsync(2);
        Assert.Equal(2, (await _manager.Services.GetRequiredService<Fim.Manager.Store.IAlertStore>().TallyAsync(CancellationToken.None)).Rows);
        var byRule = alerts.ToDictionary(a => a.RuleId);
        Assert.Equal(5, byRule["705"].Level);
        Assert.Equal(13, byRule["702"].Level);
        var stored = JsonSerializer.Deserialize(byRule["705"].Json, ContractJson.Default.Alert)!;
        Assert.Equal("Terminal shell in container", stored.Record!.Title);
        Assert.Equal("Notice", stored.Record.Severity);
        Assert.Equal("worker-1", stored.Host);
        Assert.Equal(Subjects.IngestAgentId(SecurityRecord.Falco), stored.AgentId);
        Assert.DoesNotContain("unknown-agent", stored.Tags);
        Assert.Equal("bash", stored.Record.Fields["output_fields.proc.name"]);

        // The same search over REST, as the console and scripts make it.
        var rest = await _manager.Http.GetStringAsync($"/api/v1/alerts?source=falco&since={Uri.EscapeDataString(Now.AddHours(-1).ToString("O"))}");
        Assert.Equal(2, JsonDocument.Parse(rest).RootElement.GetProperty("alerts").GetArrayLength());
        Assert.Empty((await _manager.Client.ListAlertsAsync(new ListAlertsRequest { Source = "prowler", Since = Timestamp.FromDateTimeOffset(Now.AddHours(-1)) })).Alerts);
    }

    [Fact]
    public async Task An_ingest_token_posts_events_and_can_read_or_review_nothing()
    {
        var token = (await _manager.Client.CreateApiTokenAsync(new CreateApiTokenRequest { Name = "falcosidekick", Role = "ingest" })).Secret;
        var falco = _manager.HttpWithToken(token);
        var posted = await falco.PostAsync("/api/v1/ingest/falco", Json(SecuritySamples.At(SecuritySamples.FalcoShell, Now.AddSeconds(-1))));
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        var alerts = await AlertsWhenAsync(1);

        // Least privilege: the credential a Falco holds cannot read what it posted, nor hide it by a review.
        Assert.Equal(HttpStatusCode.Forbidden, (await falco.GetAsync("/api/v1/alerts")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await falco.GetAsync("/api/v1/agents")).StatusCode);
        var review = await falco.PostAsync("/api/v1/alerts/review",
            Json($$"""{"state":"expected","comment":"nothing to see","alertIds":["{{alerts[0].AlertId}}"]}"""));
        Assert.Equal(HttpStatusCode.Forbidden, review.StatusCode);
        var grpc = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await _manager.ClientWithToken(token).ListAlertsAsync(new ListAlertsRequest()));
        Assert.Equal(Grpc.Core.StatusCode.PermissionDenied, grpc.StatusCode);
    }

    [Fact]
    public async Task A_post_that_holds_no_Falco_event_is_refused_naming_why_and_good_lines_beside_bad_ones_are_kept()
    {
        var falco = _manager.HttpAs(OidcProvider.Analyst);
        var garbage = await falco.PostAsync("/api/v1/ingest/falco", Json("{\"rule\":\"x\""));
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.Contains("not JSON", await garbage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var notFalco = await falco.PostAsync("/api/v1/ingest/falco", Json("{\"message\":\"hello\"}"));
        Assert.Equal(HttpStatusCode.BadRequest, notFalco.StatusCode);
        Assert.Contains("'rule'", await notFalco.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var mixed = "not json\n" + SecuritySamples.At(SecuritySamples.FalcoShadow, Now) + "\n";
        var reply = await falco.PostAsync("/api/v1/ingest/falco", new StringContent(mixed, Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        var body = JsonDocument.Parse(await reply.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, body.GetProperty("accepted").GetInt32());
        Assert.StartsWith("line 1: not JSON", body.GetProperty("rejected")[0].GetString(), StringComparison.Ordinal);
        var alert = Assert.Single(await AlertsWhenAsync(1));
        Assert.Equal(("704", 8), (alert.RuleId, alert.Level));
    }
}

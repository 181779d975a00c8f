using System.Net;
using Fim.Api.V1;
using Fim.Contracts;
using Alert = Fim.Contracts.Alert;
using MaintenanceWindow = Fim.Contracts.MaintenanceWindow;
using Fim.Manager.Maintenance;
using Fim.Manager.Tests.Support;
using Fim.Testing;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Fim.Manager.Tests;

/// <summary>
/// Issue 14, acceptance 4 (maintenance): windows opened through the API lower and tag the alerts of the agents they
/// select while open, on a fake clock; after a window ends, levels are back. Nothing is dropped. The tests share one
/// nats-server, so each window selects labels only its own test's agents carry.
/// </summary>
public sealed class MaintenanceTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    private const int Reduction = 4;

    [Fact]
    public async Task Alerts_during_a_window_carry_its_id_and_a_lowered_level_and_after_it_ends_levels_are_back()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var m = await TestManager.StartAsync(nats.Server.Url, new Dictionary<string, string?> { ["Fim:Maintenance:LevelReduction"] = $"{Reduction}" },
            services: s => s.AddSingleton(new MaintenanceClock(clock)));
        var web = TestEvents.NewAgentId("web");
        var db = TestEvents.NewAgentId("db");
        await nats.Client.PutHeartbeatAsync(web, new Dictionary<string, string> { ["role"] = "web" });
        await nats.Client.PutHeartbeatAsync(db, new Dictionary<string, string> { ["role"] = "db" });
        await Eventually.TrueAsync(() => m.Services.GetRequiredService<Agents.AgentDirectory>() is { } d && d.TryGet(web, out _) && d.TryGet(db, out _), "heartbeats seen");

        var analyst = new FimMaintenance.FimMaintenanceClient(m.ChannelAs(OidcProvider.Analyst));
        var window = await analyst.CreateMaintenanceWindowAsync(new CreateMaintenanceWindowRequest
        {
            DurationSeconds = 600,
            MatchLabels = { ["role"] = "web" },
            Reason = "monthly patching, CHG-1234",
        });
        Assert.Matches("^mw-[0-9a-f]{12}$", window.WindowId);
        Assert.True(window.Open);
        Assert.Equal(Reduction, window.LevelReduction);
        Assert.Equal(clock.GetUtcNow().AddMinutes(10), window.End.ToDateTimeOffset());

        // During the window: web's change is lowered and tagged; db is not covered.
        var during = await JudgeAsync(web, clock);
        Assert.Equal(7 - Reduction, during.Level);
        Assert.Equal(7, during.Rule.Level);
        Assert.Contains(MaintenanceWindow.Tag(window.WindowId), during.Tags);
        var other = await JudgeAsync(db, clock);
        Assert.Equal(7, other.Level);
        Assert.DoesNotContain(other.Tags, t => t.StartsWith("maintenance:", StringComparison.Ordinal));

        // The planned end passes: levels are back.
        clock.Advance(TimeSpan.FromMinutes(11));
        var after = await JudgeAsync(web, clock);
        Assert.Equal(7, after.Level);
        Assert.DoesNotContain(after.Tags, t => t.StartsWith("maintenance:", StringComparison.Ordinal));
        var viewer = new FimMaintenance.FimMaintenanceClient(m.ChannelAs(OidcProvider.Viewer));
        Assert.DoesNotContain((await viewer.ListMaintenanceWindowsAsync(new ListMaintenanceWindowsRequest())).Windows, w => w.WindowId == window.WindowId);
        var closed = Assert.Single((await viewer.ListMaintenanceWindowsAsync(new ListMaintenanceWindowsRequest { IncludeClosed = true })).Windows, w => w.WindowId == window.WindowId);
        Assert.False(closed.Open);

        // A window ended early by an analyst: open, then not.
        var second = await analyst.CreateMaintenanceWindowAsync(new CreateMaintenanceWindowRequest { DurationSeconds = 3600, MatchLabels = { ["role"] = "db" }, Reason = "kernel update" });
        Assert.Equal(7 - Reduction, (await JudgeAsync(db, clock)).Level);
        clock.Advance(TimeSpan.FromMinutes(5));
        var ended = await analyst.EndMaintenanceWindowAsync(new EndMaintenanceWindowRequest { WindowId = second.WindowId });
        Assert.False(ended.Open);
        Assert.Equal(clock.GetUtcNow(), ended.EndedAt.ToDateTimeOffset());
        Assert.False(string.IsNullOrEmpty(ended.EndedBy));
        clock.Advance(TimeSpan.FromSeconds(1));
        var afterEnd = await JudgeAsync(db, clock);
        Assert.Equal(7, afterEnd.Level);
        Assert.DoesNotContain(MaintenanceWindow.Tag(second.WindowId), afterEnd.Tags);
        var again = await Assert.ThrowsAsync<RpcException>(() => analyst.EndMaintenanceWindowAsync(new EndMaintenanceWindowRequest { WindowId = second.WindowId }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);
    }

    [Fact]
    public async Task A_window_opened_through_one_manager_lowers_alerts_judged_by_another()
    {
        await using var first = await TestManager.StartAsync(nats.Server.Url);
        await using var second = await TestManager.StartAsync(nats.Server.Url);
        var client = new FimMaintenance.FimMaintenanceClient(first.ChannelAs(OidcProvider.Analyst));
        var window = await client.CreateMaintenanceWindowAsync(new CreateMaintenanceWindowRequest { DurationSeconds = 600, MatchLabels = { ["team"] = "ops" }, Reason = "shared" });
        await Eventually.TrueAsync(() => second.Services.GetRequiredService<MaintenanceWindows>().All.Any(w => w.Id == window.WindowId), "the second manager sees the window");
        var listed = await new FimMaintenance.FimMaintenanceClient(second.ChannelAs(OidcProvider.Viewer)).ListMaintenanceWindowsAsync(new ListMaintenanceWindowsRequest());
        Assert.Contains(listed.Windows, w => w.WindowId == window.WindowId && w.Reason == "shared");
        await client.EndMaintenanceWindowAsync(new EndMaintenanceWindowRequest { WindowId = window.WindowId });
    }

    [Theory]
    [InlineData("""{"durationSeconds": 600}""", "reason")]
    [InlineData("""{"reason": "x"}""", "end, duration_seconds")]
    [InlineData("""{"reason": "x", "durationSeconds": 600, "end": "2099-01-01T00:00:00Z"}""", "end, duration_seconds")]
    [InlineData("""{"reason": "x", "durationSeconds": -5}""", "duration_seconds")]
    [InlineData("""{"reason": "x", "durationSeconds": 31536000}""", "duration_seconds")]
    [InlineData("""{"reason": "x", "start": "2099-01-02T00:00:00Z", "end": "2099-01-01T00:00:00Z"}""", "start")]
    [InlineData("""{"reason": "x", "end": "2000-01-01T00:00:00Z"}""", "end")]
    [InlineData("""{"reason": "x", "durationSeconds": 600, "matchLabels": {"bad key!": "v"}}""", "match_labels")]
    [InlineData("""{"reason": "x", "durationSeconds": 600, "matchLabels": {"role": "not a value"}}""", "match_labels")]
    [InlineData("""{"reason": "x", "durationSeconds": 600, "levelReduction": 40}""", "level_reduction")]
    public async Task Bad_windows_are_refused_with_the_field_named(string body, string field)
    {
        await using var m = await TestManager.StartAsync(nats.Server.Url);
        var response = await m.HttpAs(OidcProvider.Analyst).PostAsync("/api/v1/maintenance", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {text}");
        Assert.Contains(field + ":", text);
    }

    [Fact]
    public async Task Opening_a_window_needs_the_analyst_role_and_the_window_is_stored_in_kv_with_who_opened_it()
    {
        await using var m = await TestManager.StartAsync(nats.Server.Url);
        var asViewer = new FimMaintenance.FimMaintenanceClient(m.ChannelAs(OidcProvider.Viewer));
        var refused = await Assert.ThrowsAsync<RpcException>(() => asViewer.CreateMaintenanceWindowAsync(new CreateMaintenanceWindowRequest { DurationSeconds = 60, Reason = "x" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        var created = await new FimMaintenance.FimMaintenanceClient(m.ChannelAs(OidcProvider.Analyst))
            .CreateMaintenanceWindowAsync(new CreateMaintenanceWindowRequest { DurationSeconds = 60, MatchLabels = { ["test"] = "kv" }, Reason = "audited" });
        var stored = await nats.Client.ReadAsync(Subjects.KvStream(Subjects.MaintenanceBucket), Subjects.KvKey(Subjects.MaintenanceBucket, created.WindowId));
        var record = Assert.Single(stored).As<MaintenanceWindow>();
        Assert.Equal("audited", record.Reason);
        Assert.Equal(created.CreatedBy, record.CreatedBy);
    }

    /// <summary>Publishes a modified event of <paramref name="agent"/> observed now by <paramref name="clock"/> and returns its alert.</summary>
    private async Task<Alert> JudgeAsync(string agent, FakeTimeProvider clock)
    {
        var e = TestEvents.Event(agent, "/etc/app.conf");
        e.ObservedAt = clock.GetUtcNow();
        await nats.Client.PublishEventAsync(e);
        Alert? alert = null;
        await Eventually.TrueAsync(async () => (alert = (await nats.Client.AlertsAsync(agent)).FirstOrDefault(a => a.EventId == e.EventId)) is not null, $"the alert of {e.EventId}");
        return alert!;
    }
}

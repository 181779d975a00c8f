using System.Net;
using System.Security.Claims;
using Fim.Manager.Security;
using Fim.Manager.Store;
using Fim.Manager.Tests.Support;
using Fim.Manager.WebConsole;
using Fim.Testing;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Tests;

/// <summary>
/// The console's switch and its server-side review check, in-process. What a browser sees is Fim.Console.Tests' part
/// (Playwright against a real manager process).
/// </summary>
public sealed class ConsoleHostTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    [Fact]
    public async Task Console_Enabled_without_the_browser_login_stops_the_start_naming_the_setting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            // No OIDC settings at all: no browser login to sign console users in.
            await using var app = TestManager.Build(nats.Server.Url, NatsServer.FreePort(), NatsServer.FreePort(), new MemoryStream(),
                new Dictionary<string, string?> { ["Fim:Console:Enabled"] = "true" });
            await app.StartAsync();
        });
        Assert.Contains(ManagerApp.ConfigurationFailures(error), f => f.StartsWith("Fim:Console:Enabled: the console signs users in through the browser login", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_console_is_served_with_the_browser_login_and_not_at_all_when_switched_off()
    {
        await using (var on = await TestManager.StartAsync(nats.Server.Url))
        {
            using var browser = Browser(on);
            var page = await browser.GetAsync("/console/alerts?minLevel=7");
            Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
            Assert.Equal("/login?returnUrl=" + Uri.EscapeDataString("/console/alerts?minLevel=7"), page.Headers.Location?.OriginalString);
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/_content/MudBlazor/MudBlazor.min.css")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/_framework/blazor.web.js")).StatusCode);
        }
        await using var off = await TestManager.StartAsync(nats.Server.Url, new Dictionary<string, string?> { ["Fim:Console:Enabled"] = "false" });
        using var offBrowser = Browser(off);
        var none = await offBrowser.GetAsync("/console/alerts");
        Assert.NotEqual(HttpStatusCode.Redirect, none.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, none.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, (await offBrowser.GetAsync("/_content/MudBlazor/MudBlazor.min.css")).StatusCode);
        // The login itself stays: the switch is the console's alone.
        Assert.Equal(HttpStatusCode.Redirect, (await offBrowser.GetAsync("/login")).StatusCode);
    }

    [Fact]
    public async Task A_viewer_calling_the_consoles_review_handler_directly_is_refused_and_an_analysts_review_is_audited_as_the_apis()
    {
        await using var m = await TestManager.StartAsync(nats.Server.Url);
        var agent = TestEvents.NewAgentId("console");
        await nats.Client.PublishEventAsync(TestEvents.Event(agent, "/etc/hosts", "modified"));
        await m.AwaitStoredAsync(1);
        var alertId = (await m.Client.ListAlertsAsync(new Fim.Api.V1.ListAlertsRequest { AgentId = agent })).Alerts.Single().AlertId;
        var reviews = m.Services.GetRequiredService<ConsoleActions>();

        var refused = await Assert.ThrowsAsync<RpcException>(() => reviews.ReviewAsync(User("vera", OidcProvider.ViewerGroup), [alertId], ReviewStates.Expected, "x", CancellationToken.None));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => reviews.ReviewAsync(new ClaimsPrincipal(new ClaimsIdentity()), [alertId], ReviewStates.Expected, null, CancellationToken.None));
        Assert.Equal(StatusCode.PermissionDenied, anonymous.StatusCode);
        Assert.Equal("", (await m.Client.ListAlertsAsync(new Fim.Api.V1.ListAlertsRequest { AgentId = agent })).Alerts.Single().Review?.State ?? "");

        var done = await reviews.ReviewAsync(User("anna", OidcProvider.AnalystGroup), [alertId], ReviewStates.Expected, "planned change", CancellationToken.None);
        Assert.Equal((1UL, "anna"), (done.Changed, done.Review.Reviewer));
        var stored = (await m.Client.ListAlertsAsync(new Fim.Api.V1.ListAlertsRequest { AgentId = agent })).Alerts.Single().Review;
        Assert.Equal(("expected", "anna", "planned change"), (stored.State, stored.Reviewer, stored.Comment));
        var audit = await m.Services.GetRequiredService<IAuditStore>().ListAuditAsync(new AuditQuery { Actor = "anna" }, CancellationToken.None);
        Assert.Equal(["ok", "started"], audit.Entries.Select(e => e.Outcome));
        Assert.All(audit.Entries, e => Assert.Equal(("fim.v1.FimManager/ReviewAlerts", "oidc-session"), (e.Action, e.AuthMethod)));
        Assert.Empty((await m.Services.GetRequiredService<IAuditStore>().ListAuditAsync(new AuditQuery { Actor = "vera" }, CancellationToken.None)).Entries);
    }

    [Fact]
    public async Task A_scan_from_the_console_needs_the_admin_role_and_is_audited_as_the_apis_TriggerScan()
    {
        await using var m = await TestManager.StartAsync(nats.Server.Url);
        var actions = m.Services.GetRequiredService<ConsoleActions>();
        var agent = TestEvents.NewAgentId("console-scan");

        var refused = await Assert.ThrowsAsync<RpcException>(() => actions.ScanAsync(User("andy", OidcProvider.AnalystGroup), agent, CancellationToken.None));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        // No agent listens on its command subject: the admin's scan is tried, fails as the API's would, and both rows are kept.
        var unanswered = await Assert.ThrowsAsync<RpcException>(() => actions.ScanAsync(User("adam", OidcProvider.AdminGroup), agent, CancellationToken.None));
        Assert.Equal(StatusCode.Unavailable, unanswered.StatusCode);
        Assert.Contains(agent, unanswered.Status.Detail);

        var store = m.Services.GetRequiredService<IAuditStore>();
        var audit = await store.ListAuditAsync(new AuditQuery { Actor = "adam" }, CancellationToken.None);
        Assert.Equal(["Unavailable", "started"], audit.Entries.Select(e => e.Outcome));
        Assert.All(audit.Entries, e => Assert.Equal(("fim.v1.FimManager/TriggerScan", "oidc-session", agent), (e.Action, e.AuthMethod, e.Target)));
        Assert.Empty((await store.ListAuditAsync(new AuditQuery { Actor = "andy" }, CancellationToken.None)).Entries);
    }

    [Fact]
    public async Task A_session_cookie_one_manager_issued_is_read_by_another_and_after_a_restart_and_a_foreign_key_rings_is_not()
    {
        string cookie;
        await using (var first = await TestManager.StartAsync(nats.Server.Url))
        {
            cookie = SessionCookie(first.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(SecurityServices.CookieScheme).TicketDataFormat);
        }
        // The cookie is protected by a key kept in KV fim-console-keys (a protected payload: 4-byte magic, then the key id),
        // not by one in a process or in this machine's home directory, which pods do not share.
        var keyId = new Guid(WebEncoders.Base64UrlDecode(cookie).AsSpan(4, 16));
        var ring = await new NatsKVContext(nats.Client.Js).GetStoreAsync(Fim.Contracts.Subjects.ConsoleKeysBucket);
        var stored = await ring.GetEntryAsync<string>(SharedKeyRing.KeyName("key-" + keyId.ToString("D")));
        Assert.Equal(keyId.ToString("D"), System.Xml.Linq.XElement.Parse(stored.Value!).Attribute("id")?.Value);
        // Another manager, started after the first one stopped: the key ring is in KV fim-console-keys, not in a process.
        await using var second = await TestManager.StartAsync(nats.Server.Url);
        using var browser = Browser(second);
        var page = await browser.SendAsync(WithCookie("/console/agents", cookie));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        // A cookie protected by keys of its own (another deployment, a forger) is no session: sent to sign in.
        var foreign = new TicketDataFormat(new EphemeralDataProtectionProvider().CreateProtector(
            "Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationMiddleware", SecurityServices.CookieScheme, "v2"));
        var refused = await browser.SendAsync(WithCookie("/console/agents", SessionCookie(foreign)));
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/login", refused.Headers.Location?.OriginalString);
    }

    private static string SessionCookie(ISecureDataFormat<AuthenticationTicket> format) =>
        format.Protect(new AuthenticationTicket(User("sam", OidcProvider.ViewerGroup),
            new AuthenticationProperties { IssuedUtc = DateTimeOffset.UtcNow, ExpiresUtc = DateTimeOffset.UtcNow.AddHours(1) }, SecurityServices.CookieScheme));

    private static HttpRequestMessage WithCookie(string path, string cookie)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", "fim_session=" + cookie);
        return request;
    }

    /// <summary>A browser session's user as the cookie handler restores it: the IdP's sub and groups.</summary>
    private static ClaimsPrincipal User(string subject, string group) =>
        new(new ClaimsIdentity([new Claim("sub", subject), new Claim("groups", group)], "AuthenticationTypes.Federation"));

    private static HttpClient Browser(TestManager m) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{m.HttpPort}") };
}

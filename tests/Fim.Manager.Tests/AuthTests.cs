using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fim.Api.V1;
using Fim.Contracts;
using Fim.Manager.Tests.Support;
using Fim.Testing;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Fim.Manager.Tests;

/// <summary>A manager that trusts the shared test OIDC provider, with agents of two teams and their alerts.</summary>
public sealed class AuthFixture : IAsyncLifetime
{
    public NatsFixture Nats { get; } = new();
    public TestManager Manager { get; private set; } = null!;
    public string Payments { get; } = TestEvents.NewAgentId("pay");
    public string Web { get; } = TestEvents.NewAgentId("web");

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
        await Eventually.CountAsync(() => Nats.Client.ReadAsync(Subjects.AlertsStream, Subjects.AllAlerts), 3, "seeded alerts");
        await Manager.AwaitStoredAsync(3);
        // A scan record from each team's agent, for the scans API and the compliance report.
        var js = new NATS.Client.JetStream.NatsJSContext(Nats.Client.Connection);
        foreach (var (agent, team) in new[] { (Payments, "payments"), (Web, "web") })
        {
            var scan = Store.ScanStoreContract.Scan(agent, "default/etc", DateTimeOffset.UtcNow.AddMinutes(-5), labels: new Dictionary<string, string> { ["team"] = team });
            Assert.Null((await js.PublishAsync(Subjects.Scans(agent), ContractJson.ToUtf8(scan))).Error);
        }
        var scans = Manager.Services.GetRequiredService<Fim.Manager.Store.IScanStore>();
        await Eventually.TrueAsync(async () => (await scans.SearchScansAsync(new Fim.Manager.Store.ScanQuery { Since = DateTimeOffset.UtcNow.AddHours(-1) }, CancellationToken.None))
            .Rows.Count >= 2, "seeded scans stored");
    }

    public async Task DisposeAsync()
    {
        await Manager.DisposeAsync();
        await Nats.DisposeAsync();
    }
}

public sealed class AuthTests(AuthFixture f) : IClassFixture<AuthFixture>
{
    private TestManager M => f.Manager;
    private OidcProvider Oidc => f.Manager.Oidc;

    [Fact]
    public async Task The_provider_s_jwts_are_accepted_and_expired_wrongly_signed_wrong_audience_and_wrong_issuer_ones_refused()
    {
        var good = await Oidc.NewTokenAsync(OidcProvider.Viewer);
        Assert.Equal(HttpStatusCode.OK, (await M.HttpWithToken(good).GetAsync("/api/v1/agents")).StatusCode);

        var wrongAudience = await Oidc.NewTokenAsync(OidcProvider.Viewer, OidcProvider.OtherAudience);
        Assert.Equal(OidcProvider.OtherAudience, Claims(wrongAudience).GetProperty("aud").GetString());
        await AssertRefusedAsync(wrongAudience);

        // The same claims and key id, signed by a key the issuer never published.
        await AssertRefusedAsync(Resign(good, RSA.Create(2048)));
        // No signature at all.
        var parts = good.Split('.');
        await AssertRefusedAsync($"{B64("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{parts[1]}.");

        // Signed with the very key the manager trusts, by a provider that calls itself another issuer.
        await using (var other = await OidcProvider.StartAsync(Oidc.KeysFile, issuerHost: "localhost"))
        {
            var wrongIssuer = await other.NewTokenAsync(OidcProvider.Viewer);
            Assert.Equal(Header(good).GetProperty("kid").GetString(), Header(wrongIssuer).GetProperty("kid").GetString());
            await AssertRefusedAsync(wrongIssuer);
        }

        // Lives one second; the manager allows no clock skew here.
        var shortLived = await Oidc.NewTokenAsync(OidcProvider.ShortLived);
        var client = M.HttpWithToken(shortLived);
        await Eventually.TrueAsync(async () => (await client.GetAsync("/api/v1/agents")).StatusCode == HttpStatusCode.Unauthorized, "the expired token refused");
        Assert.True(Claims(shortLived).GetProperty("exp").GetInt64() <= DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        await AssertRefusedAsync("not-a-jwt");
    }

    private async Task AssertRefusedAsync(string token)
    {
        var rest = await M.HttpWithToken(token).GetAsync("/api/v1/agents");
        Assert.Equal(HttpStatusCode.Unauthorized, rest.StatusCode);
        Assert.Contains("Bearer", rest.Headers.WwwAuthenticate.ToString());
        var grpc = await Assert.ThrowsAsync<RpcException>(() => M.ClientWithToken(token).ListAgentsAsync(new ListAgentsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, grpc.StatusCode);
    }

    /// <summary>Each method's role, from the test's own table: a new method fails here until someone decides its role.</summary>
    private static readonly Dictionary<string, string> MethodRoles = new()
    {
        ["ListAgents"] = "viewer",
        ["GetAgent"] = "viewer",
        ["ListAlerts"] = "viewer",
        ["CountAlerts"] = "viewer",
        ["WatchAlerts"] = "viewer",
        ["GetFileHistory"] = "viewer",
        ["CountAlertsOverTime"] = "viewer",
        ["TriggerScan"] = "admin",
        ["CreateApiToken"] = "admin",
        ["ListApiTokens"] = "admin",
        ["RevokeApiToken"] = "admin",
        ["ReviewAlerts"] = "analyst",
        ["ListAuditLog"] = "admin",
        ["VerifyAuditLog"] = "admin",
    };

    /// <summary>
    /// The read methods the scoping test calls as a viewer limited to team=payments. Every method a viewer may call must be
    /// here (the route test checks), and the scoping test checks that it called each one: a new read endpoint fails until it
    /// is shown to return only what a scoped caller may see.
    /// </summary>
    private static readonly HashSet<string> ScopedReads = ["ListAgents", "GetAgent", "ListAlerts", "CountAlerts", "WatchAlerts", "GetFileHistory", "QueryFleet", "CountAlertsOverTime",
        "ListScans", "GetComplianceReport"];

    /// <summary>Scan records and the compliance report (gRPC and REST): reads, so viewers, scoped.</summary>
    private static readonly Dictionary<string, string> ScanRoles = new()
    {
        ["ListScans"] = "viewer",
        ["GetComplianceReport"] = "viewer",
    };

    /// <summary>Enrollment administration (gRPC only): who may let new agents join the fleet.</summary>
    private static readonly Dictionary<string, string> EnrollmentRoles = new()
    {
        ["CreateJoinToken"] = "admin",
        ["ListJoinTokens"] = "admin",
        ["RevokeJoinToken"] = "admin",
        ["ListIdentities"] = "admin",
        ["RevokeIdentity"] = "admin",
    };

    /// <summary>Maintenance windows (gRPC and REST): analysts open and end them, viewers list them.</summary>
    private static readonly Dictionary<string, string> MaintenanceRoles = new()
    {
        ["CreateMaintenanceWindow"] = "analyst",
        ["EndMaintenanceWindow"] = "analyst",
        ["ListMaintenanceWindows"] = "viewer",
    };

    /// <summary>The fleet (gRPC and REST): admins prune agents, viewers query the fleet live.</summary>
    private static readonly Dictionary<string, string> FleetRoles = new()
    {
        ["PruneAgents"] = "admin",
        ["QueryFleet"] = "viewer",
    };

    /// <summary>The routes that are not API methods: the probes and metrics (anonymous), the login flow and /me, the ingest endpoint.</summary>
    private static readonly Dictionary<string, string> OtherRoutes = new()
    {
        ["GET /healthz"] = "anonymous",
        ["GET /readyz"] = "anonymous",
        ["GET /metrics"] = "anonymous",
        ["GET /login"] = "anonymous",
        ["GET /me"] = "signed-in",
        ["POST /logout"] = "signed-in",
        // Falco's http_output and falcosidekick write events through it: a write, like a review.
        ["POST /api/v1/ingest/falco"] = "analyst",
    };

    /// <summary>A caller just below each role.</summary>
    private static readonly Dictionary<string, string[]> BelowRole = new()
    {
        ["viewer"] = [OidcProvider.NoRole],
        ["analyst"] = [OidcProvider.Viewer, OidcProvider.PaymentsViewer, OidcProvider.NoRole],
        ["admin"] = [OidcProvider.Analyst, OidcProvider.Viewer, OidcProvider.PaymentsViewer],
        // The fallback: nobody, not even an admin.
        ["nobody"] = [OidcProvider.Admin],
    };

    [Fact]
    public async Task Every_mapped_route_and_grpc_method_refuses_anonymous_callers_and_roles_below_its_own()
    {
        var service = FimManager.Descriptor;
        Assert.Equal(MethodRoles.Keys.Order(), service.Methods.Select(m => m.Name).Order());
        // Reads must be scoped: a method a viewer may call is one the scoping test runs as a scoped viewer.
        foreach (var (name, role) in MethodRoles.Where(m => m.Value == "viewer"))
        {
            Assert.True(ScopedReads.Contains(name), $"{name} is a read (role {role}) that A_viewer_limited_to_team_payments_... does not call: "
                + "show there that it returns only what a scoped caller may see (docs/security.md, 'Rule for read endpoints')");
        }
        var enrollment = Fim.Api.V1.FimEnrollment.Descriptor;
        Assert.Equal(EnrollmentRoles.Keys.Order(), enrollment.Methods.Select(m => m.Name).Order());
        var maintenance = Fim.Api.V1.FimMaintenance.Descriptor;
        Assert.Equal(MaintenanceRoles.Keys.Order(), maintenance.Methods.Select(m => m.Name).Order());
        var restRoutes = service.Methods.ToDictionary(m => RestRoute(m), m => MethodRoles[m.Name]);
        foreach (var method in maintenance.Methods)
        {
            restRoutes.Add(RestRoute(method), MaintenanceRoles[method.Name]);
        }
        var fleet = Fim.Api.V1.FimFleet.Descriptor;
        Assert.Equal(FleetRoles.Keys.Order(), fleet.Methods.Select(m => m.Name).Order());
        foreach (var method in fleet.Methods)
        {
            restRoutes.Add(RestRoute(method), FleetRoles[method.Name]);
        }
        foreach (var (name, role) in FleetRoles.Where(m => m.Value == "viewer"))
        {
            Assert.True(ScopedReads.Contains(name), $"{name} is a read (role {role}) that the scoping test does not call");
        }
        var scans = Fim.Api.V1.FimScans.Descriptor;
        Assert.Equal(ScanRoles.Keys.Order(), scans.Methods.Select(m => m.Name).Order());
        foreach (var method in scans.Methods)
        {
            restRoutes.Add(RestRoute(method), ScanRoles[method.Name]);
            Assert.True(ScopedReads.Contains(method.Name), $"{method.Name} is a read that the scoping test does not call");
        }

        var endpoints = M.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        Assert.NotEmpty(endpoints);
        var checkedRoutes = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var verbs = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            foreach (var verb in verbs)
            {
                var route = $"{verb} {pattern}";
                string role;
                if (pattern.StartsWith($"/{service.FullName}/", StringComparison.Ordinal))
                {
                    var name = pattern[(service.FullName.Length + 2)..];
                    role = MethodRoles.TryGetValue(name, out var r) ? r : "nobody";
                    await AssertGrpcRefusedAsync(service.FullName, name, role, service.Methods.FirstOrDefault(m => m.Name == name), route);
                }
                else if (pattern.StartsWith($"/{enrollment.FullName}/", StringComparison.Ordinal))
                {
                    var name = pattern[(enrollment.FullName.Length + 2)..];
                    role = EnrollmentRoles.TryGetValue(name, out var r) ? r : "nobody";
                    await AssertGrpcRefusedAsync(enrollment.FullName, name, role, enrollment.Methods.FirstOrDefault(m => m.Name == name), route);
                }
                else if (pattern.StartsWith($"/{maintenance.FullName}/", StringComparison.Ordinal))
                {
                    var name = pattern[(maintenance.FullName.Length + 2)..];
                    role = MaintenanceRoles.TryGetValue(name, out var r) ? r : "nobody";
                    await AssertGrpcRefusedAsync(maintenance.FullName, name, role, maintenance.Methods.FirstOrDefault(m => m.Name == name), route);
                }
                else if (pattern.StartsWith($"/{fleet.FullName}/", StringComparison.Ordinal))
                {
                    var name = pattern[(fleet.FullName.Length + 2)..];
                    role = FleetRoles.TryGetValue(name, out var r) ? r : "nobody";
                    await AssertGrpcRefusedAsync(fleet.FullName, name, role, fleet.Methods.FirstOrDefault(m => m.Name == name), route);
                }
                else if (pattern.StartsWith($"/{scans.FullName}/", StringComparison.Ordinal))
                {
                    var name = pattern[(scans.FullName.Length + 2)..];
                    role = ScanRoles.TryGetValue(name, out var r) ? r : "nobody";
                    await AssertGrpcRefusedAsync(scans.FullName, name, role, scans.Methods.FirstOrDefault(m => m.Name == name), route);
                }
                else if (pattern.Contains("unimplemented", StringComparison.OrdinalIgnoreCase))
                {
                    // gRPC's catch-all for unknown services and methods: no policy of its own, so the fallback refuses all.
                    role = "nobody";
                    await AssertGrpcRefusedAsync(service.FullName, "NoSuchMethod", role, null, route);
                    await AssertGrpcRefusedAsync("fim.v1.NoSuchService", "Get", role, null, route);
                }
                else if (pattern.StartsWith("/console", StringComparison.Ordinal) || pattern.StartsWith("/_blazor", StringComparison.Ordinal)
                    || pattern == "/_framework/opaque-redirect")
                {
                    role = "console";
                    await AssertConsoleSendsToLoginAsync(verb, pattern, route);
                }
                else if (pattern.StartsWith("/_content/", StringComparison.Ordinal) || pattern.StartsWith("/_framework/", StringComparison.Ordinal))
                {
                    // The console's framework and component library files: public bytes, needed before anyone signs in.
                    role = "anonymous";
                    await AssertRestRefusedAsync(verb, pattern, role, route);
                }
                else if (pattern == "/{**path:file}")
                {
                    // The static asset catch-all (files outside the asset manifest): mapped without a policy, so closed.
                    role = "nobody";
                    await AssertRestRefusedAsync(verb, pattern, role, route);
                }
                else
                {
                    role = restRoutes.TryGetValue(route, out var r) ? r
                        : OtherRoutes.TryGetValue(route, out var o) ? o
                        : throw new Xunit.Sdk.XunitException($"route {route} is in no table of this test: decide which role it needs and add it");
                    await AssertRestRefusedAsync(verb, pattern, role, route);
                }
                checkedRoutes.Add(route);
            }
        }
        foreach (var method in maintenance.Methods)
        {
            Assert.Contains($"POST /{maintenance.FullName}/{method.Name}", checkedRoutes);
            Assert.Contains(RestRoute(method), checkedRoutes);
        }
        foreach (var method in enrollment.Methods)
        {
            Assert.Contains($"POST /{enrollment.FullName}/{method.Name}", checkedRoutes);
        }
        foreach (var method in fleet.Methods)
        {
            Assert.Contains($"POST /{fleet.FullName}/{method.Name}", checkedRoutes);
            Assert.Contains(RestRoute(method), checkedRoutes);
        }
        foreach (var method in scans.Methods)
        {
            Assert.Contains($"POST /{scans.FullName}/{method.Name}", checkedRoutes);
            Assert.Contains(RestRoute(method), checkedRoutes);
        }
        // Every API method was reached both ways.
        foreach (var method in service.Methods)
        {
            Assert.Contains($"POST /{service.FullName}/{method.Name}", checkedRoutes);
            Assert.Contains(RestRoute(method), checkedRoutes);
        }
        Assert.Contains("GET /login", checkedRoutes);
        Assert.Contains("GET /console/alerts", checkedRoutes);
        Assert.Contains("GET /console/alert", checkedRoutes);
    }

    /// <summary>
    /// A console route answers a browser without a session, and any bearer token (the console takes only its login
    /// cookie), with a redirect to the login; what roles see inside is Fim.Console.Tests' part.
    /// </summary>
    private async Task AssertConsoleSendsToLoginAsync(string verb, string pattern, string route)
    {
        var path = System.Text.RegularExpressions.Regex.Replace(pattern, @"\{[^}]*\}", "x");
        var baseAddress = new Uri($"http://127.0.0.1:{M.HttpPort}");
        using var anonymous = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = baseAddress };
        using var admin = new HttpClient(Oidc.BearerHandler(OidcProvider.Admin, new SocketsHttpHandler { AllowAutoRedirect = false })) { BaseAddress = baseAddress };
        foreach (var client in new[] { anonymous, admin })
        {
            using var request = new HttpRequestMessage(new HttpMethod(verb), path);
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{route}: {response.StatusCode}, not a redirect to the login");
            Assert.StartsWith("/login?returnUrl=", response.Headers.Location?.OriginalString ?? "");
        }
    }

    private async Task AssertRestRefusedAsync(string verb, string pattern, string role, string route)
    {
        var path = System.Text.RegularExpressions.Regex.Replace(pattern, @"\{([^}:=]+)[^}]*\}", m => m.Groups[1].Value switch
        {
            "agent_id" => f.Payments,
            "token_id" => "0123456789abcdef",
            "window_id" => "mw-0123456789ab",
            _ => "x",
        });
        HttpRequestMessage Request() => new(new HttpMethod(verb), path)
        {
            Content = verb is "POST" or "PUT" or "PATCH" ? new StringContent("{}", Encoding.UTF8, "application/json") : null,
        };
        var anonymous = await M.AnonymousHttp.SendAsync(Request(), HttpCompletionOption.ResponseHeadersRead);
        if (role == "anonymous")
        {
            Assert.True(anonymous.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{route} must stay open, got {anonymous.StatusCode}");
            return;
        }
        Assert.True(anonymous.StatusCode == HttpStatusCode.Unauthorized, $"{route} anonymous: {anonymous.StatusCode}");
        foreach (var below in BelowRole.GetValueOrDefault(role, []))
        {
            var response = await M.HttpAs(below).SendAsync(Request(), HttpCompletionOption.ResponseHeadersRead);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{route} as {below} (below {role}): {response.StatusCode}");
        }
    }

    private async Task AssertGrpcRefusedAsync(string service, string name, string role, MethodDescriptor? method, string route)
    {
        var streaming = method?.IsServerStreaming == true;
        var marshaller = Marshallers.Create<byte[]>(b => b, b => b);
        var call = new Method<byte[], byte[]>(streaming ? MethodType.ServerStreaming : MethodType.Unary, service, name, marshaller, marshaller);
        async Task<StatusCode> CallAsync(Fim.Api.V1.FimManager.FimManagerClient client)
        {
            var invoker = client.GetType().GetProperty("CallInvoker", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
                .GetValue(client) as CallInvoker;
            try
            {
                if (streaming)
                {
                    using var stream = invoker!.AsyncServerStreamingCall(call, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), []);
                    await stream.ResponseStream.MoveNext(CancellationToken.None);
                }
                else
                {
                    await invoker!.AsyncUnaryCall(call, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), []);
                }
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        }
        Assert.True(await CallAsync(M.ClientWithToken(null)) == StatusCode.Unauthenticated, $"{route} anonymous");
        foreach (var below in BelowRole.GetValueOrDefault(role, []))
        {
            var status = await CallAsync(M.ClientAs(below));
            Assert.True(status == StatusCode.PermissionDenied, $"{route} as {below} (below {role}): {status}");
        }
    }

    private static string RestRoute(MethodDescriptor method)
    {
        var rule = method.GetOptions().GetExtension(Google.Api.AnnotationsExtensions.Http);
        var (verb, path) = rule.PatternCase switch
        {
            Google.Api.HttpRule.PatternOneofCase.Get => ("GET", rule.Get),
            Google.Api.HttpRule.PatternOneofCase.Post => ("POST", rule.Post),
            Google.Api.HttpRule.PatternOneofCase.Delete => ("DELETE", rule.Delete),
            Google.Api.HttpRule.PatternOneofCase.Put => ("PUT", rule.Put),
            Google.Api.HttpRule.PatternOneofCase.Patch => ("PATCH", rule.Patch),
            _ => throw new InvalidOperationException($"{method.Name}: no REST route"),
        };
        return $"{verb} {path}";
    }

    [Fact]
    public async Task A_viewer_limited_to_team_payments_sees_only_those_agents_in_lists_searches_history_counts_and_live_queries()
    {
        var called = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        var scoped = new FimManager.FimManagerClient(M.ChannelAs(OidcProvider.PaymentsViewer).Intercept(new MethodRecorder(called)));
        var everyone = M.ClientAs(OidcProvider.Viewer);

        var agents = await scoped.ListAgentsAsync(new ListAgentsRequest());
        Assert.Equal([f.Payments], agents.Agents.Select(a => a.AgentId).Where(a => a == f.Payments || a == f.Web));
        Assert.Contains((await everyone.ListAgentsAsync(new ListAgentsRequest())).Agents, a => a.AgentId == f.Web);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() =>
            scoped.GetAgentAsync(new GetAgentRequest { AgentId = f.Web }).ResponseAsync)).StatusCode);
        Assert.Equal(f.Payments, (await scoped.GetAgentAsync(new GetAgentRequest { AgentId = f.Payments })).AgentId);

        var alerts = await scoped.ListAlertsAsync(new ListAlertsRequest());
        Assert.NotEmpty(alerts.Alerts);
        Assert.All(alerts.Alerts, a => Assert.Equal(f.Payments, a.AgentId));
        Assert.Empty((await scoped.ListAlertsAsync(new ListAlertsRequest { AgentId = f.Web })).Alerts);
        Assert.Contains((await everyone.ListAlertsAsync(new ListAlertsRequest())).Alerts, a => a.AgentId == f.Web);

        var counts = await scoped.CountAlertsAsync(new CountAlertsRequest());
        var all = await everyone.CountAlertsAsync(new CountAlertsRequest());
        Assert.Equal((ulong)alerts.Alerts.Count, counts.Total);
        Assert.True(all.Total > counts.Total, $"all {all.Total}, payments {counts.Total}");
        Assert.Equal(0UL, (await scoped.CountAlertsAsync(new CountAlertsRequest { AgentId = f.Web })).Total);
        var overTime = await scoped.CountAlertsOverTimeAsync(new CountAlertsOverTimeRequest { GroupBy = "agent", BucketSeconds = 86400 });
        Assert.Contains(overTime.Buckets, b => b.Key == f.Payments);
        Assert.DoesNotContain(overTime.Buckets, b => b.Key == f.Web);
        Assert.Contains((await everyone.CountAlertsOverTimeAsync(new CountAlertsOverTimeRequest { GroupBy = "agent", BucketSeconds = 86400 })).Buckets,
            b => b.Key == f.Web);

        Assert.Single((await scoped.GetFileHistoryAsync(new GetFileHistoryRequest { AgentId = f.Payments, Path = "/etc/passwd" })).Events);
        Assert.Empty((await scoped.GetFileHistoryAsync(new GetFileHistoryRequest { AgentId = f.Web, Path = "/etc/passwd" })).Events);
        Assert.Single((await everyone.GetFileHistoryAsync(new GetFileHistoryRequest { AgentId = f.Web, Path = "/etc/passwd" })).Events);

        // The live fleet query reaches only the payments agent (which, being a heartbeat without a process, does not answer).
        var fleetClient = new FimFleet.FimFleetClient(M.ChannelAs(OidcProvider.PaymentsViewer).Intercept(new MethodRecorder(called)));
        foreach (var selector in new[] { "", "team=web", "team in (web,payments)" })
        {
            using var query = fleetClient.QueryFleet(new QueryFleetRequest { Path = "/etc/passwd", Selector = selector, Timeout = "200ms" });
            var reached = new List<string>();
            while (await query.ResponseStream.MoveNext(CancellationToken.None))
            {
                reached.Add(query.ResponseStream.Current.AgentId);
            }
            Assert.DoesNotContain(f.Web, reached);
            Assert.Equal(selector == "team=web" ? 0 : 1, reached.Count(a => a == f.Payments));
        }

        // Scan records and the compliance report: only the payments agent's.
        var scansClient = new FimScans.FimScansClient(M.ChannelAs(OidcProvider.PaymentsViewer).Intercept(new MethodRecorder(called)));
        var scanned = await scansClient.ListScansAsync(new ListScansRequest());
        Assert.Contains(scanned.Scans, s => s.AgentId == f.Payments);
        Assert.DoesNotContain(scanned.Scans, s => s.AgentId == f.Web);
        Assert.Empty((await scansClient.ListScansAsync(new ListScansRequest { AgentId = f.Web })).Scans);
        Assert.Contains((await new FimScans.FimScansClient(M.ChannelAs(OidcProvider.Viewer)).ListScansAsync(new ListScansRequest())).Scans, s => s.AgentId == f.Web);
        var report = await scansClient.GetComplianceReportAsync(new GetComplianceReportRequest
        {
            From = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)),
            Format = "csv",
        });
        Assert.Contains(f.Payments, report.Data.ToStringUtf8());
        Assert.DoesNotContain(f.Web, report.Data.ToStringUtf8());

        // REST gives the same answer.
        using var rest = JsonDocument.Parse(await M.HttpAs(OidcProvider.PaymentsViewer).GetStringAsync("/api/v1/alerts"));
        Assert.All(rest.RootElement.GetProperty("alerts").EnumerateArray(), a => Assert.Equal(f.Payments, a.GetProperty("agentId").GetString()));

        // Live: alerts stored while watching, web's first, reach the scoped watcher only for payments.
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var watchScoped = scoped.WatchAlerts(new WatchAlertsRequest(), cancellationToken: cancel.Token);
        using var watchAll = everyone.WatchAlerts(new WatchAlertsRequest(), cancellationToken: cancel.Token);
        var marker = "/srv/live-" + Guid.NewGuid().ToString("N")[..6];
        var seenAll = new List<Fim.Api.V1.Alert>();
        var readAll = Task.Run(async () =>
        {
            while (await watchAll.ResponseStream.MoveNext(cancel.Token))
            {
                lock (seenAll)
                {
                    seenAll.Add(watchAll.ResponseStream.Current);
                    // Workers judge in parallel, so the two markers' alerts may be stored in either order.
                    if (seenAll.Count(a => a.Path == marker) == 2)
                    {
                        return;
                    }
                }
            }
        });
        // The watch consumer exists once the server answered the call's headers.
        await watchScoped.ResponseHeadersAsync;
        await watchAll.ResponseHeadersAsync;
        await f.Nats.Client.PublishEventAsync(TestEvents.Event(f.Web, marker, "added"));
        await f.Nats.Client.PublishEventAsync(TestEvents.Event(f.Payments, marker, "added"));
        Assert.True(await watchScoped.ResponseStream.MoveNext(cancel.Token));
        var first = watchScoped.ResponseStream.Current;
        Assert.Equal(f.Payments, first.AgentId);
        Assert.Equal(marker, first.Path);
        await readAll;
        Assert.Contains(seenAll, a => a.AgentId == f.Web && a.Path == marker);

        Assert.Equal(ScopedReads.Order(), called.Keys.Order());
    }

    /// <summary>Notes the name of every method called through it.</summary>
    private sealed class MethodRecorder(System.Collections.Concurrent.ConcurrentDictionary<string, bool> called) : Interceptor
    {
        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
            AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
        {
            called[context.Method.Name] = true;
            return continuation(request, context);
        }

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request,
            ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
        {
            called[context.Method.Name] = true;
            return continuation(request, context);
        }
    }

    [Fact]
    public async Task Twenty_scan_requests_within_a_second_run_one_scan_per_agent()
    {
        var a = TestEvents.NewAgentId("scan-a");
        var b = TestEvents.NewAgentId("scan-b");
        await using var agentA = await FakeAgent.StartAsync(f.Nats.Client.Connection, a);
        await using var agentB = await FakeAgent.StartAsync(f.Nats.Client.Connection, b);
        // An admin API token is a caller of its own, so the per-caller scan limit of other tests does not interfere.
        var token = (await M.Client.CreateApiTokenAsync(new CreateApiTokenRequest { Name = "scan-test", Role = "admin" })).Secret;
        var client = M.ClientWithToken(token);

        var started = DateTimeOffset.UtcNow;
        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            client.TriggerScanAsync(new TriggerScanRequest { AgentId = i % 2 == 0 ? a : b }).ResponseAsync));
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(10));

        Assert.All(replies, r => Assert.True(r.Ok));
        Assert.Equal(18, replies.Count(r => r.Joined));
        Assert.Single(agentA.Requests);
        Assert.Single(agentB.Requests);
        // Later requests inside the scan interval still join.
        Assert.True((await client.TriggerScanAsync(new TriggerScanRequest { AgentId = a })).Joined);
        Assert.Single(agentA.Requests);
    }

    [Fact]
    public async Task Requests_beyond_the_per_caller_limit_are_refused_with_429_and_other_callers_keep_their_own()
    {
        await using var m = await TestManager.StartAsync(f.Nats.Server.Url, new Dictionary<string, string?> { ["Fim:Api:RequestsPerCallerPerMinute"] = "5" });
        var admin = m.HttpAs(OidcProvider.Admin);
        var statuses = new List<HttpStatusCode>();
        string? refusal = null;
        for (var i = 0; i < 7; i++)
        {
            using var response = await admin.GetAsync("/api/v1/agents");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refusal = await response.Content.ReadAsStringAsync();
            }
        }
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.OK)); // Fim:Api:RequestsPerCallerPerMinute
        Assert.All(statuses.Skip(5), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        Assert.Contains("rate limit", refusal);
        // The budget is per caller: another identity is not refused for the admin's burst.
        Assert.Equal(HttpStatusCode.OK, (await m.HttpAs(OidcProvider.Viewer).GetAsync("/api/v1/agents")).StatusCode);
    }

    [Fact]
    public async Task The_consoles_static_files_do_not_use_up_the_callers_request_budget()
    {
        // Analysts behind one NAT share an address before they sign in: a page load's dozen script and style files each
        // would otherwise count against that address's budget and turn the next API call (or sign-in) into a 429.
        var settings = (await OidcProvider.SharedAsync()).ManagerSettings(browserLogin: true);
        settings["Fim:Api:RequestsPerCallerPerMinute"] = "5";
        await using var m = await TestManager.StartAsync(f.Nats.Server.Url, settings);
        var anonymous = m.AnonymousHttp;
        for (var i = 0; i < 8; i++)
        {
            using var asset = await anonymous.GetAsync("/_framework/blazor.web.js");
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        }
        var api = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await anonymous.GetAsync("/api/v1/agents");
            api.Add(response.StatusCode);
        }
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), HttpStatusCode.TooManyRequests], api);
    }

    [Fact]
    public async Task Scan_requests_beyond_the_per_caller_limit_are_refused_as_resource_exhausted()
    {
        var token = (await M.Client.CreateApiTokenAsync(new CreateApiTokenRequest { Name = "scan-burst", Role = "admin" })).Secret;
        var client = M.ClientWithToken(token);
        var agent = TestEvents.NewAgentId("burst");
        await using var fake = await FakeAgent.StartAsync(f.Nats.Client.Connection, agent);
        var statuses = new List<StatusCode>();
        for (var i = 0; i < 35; i++)
        {
            try
            {
                await client.TriggerScanAsync(new TriggerScanRequest { AgentId = agent });
                statuses.Add(StatusCode.OK);
            }
            catch (RpcException e)
            {
                statuses.Add(e.StatusCode);
            }
        }
        Assert.Equal(30, statuses.Count(s => s == StatusCode.OK)); // Fim:Api:ScansPerCallerPerMinute
        Assert.All(statuses.Skip(30), s => Assert.Equal(StatusCode.ResourceExhausted, s));
        Assert.Single(fake.Requests);
    }

    [Fact]
    public async Task Api_tokens_are_shown_once_work_until_revoked_or_expired_and_list_their_last_use()
    {
        var created = await M.Client.CreateApiTokenAsync(new CreateApiTokenRequest { Name = "ci", Role = "viewer" });
        Assert.StartsWith("fimt_" + created.Token.TokenId + "_", created.Secret);
        var http = M.HttpWithToken(created.Secret);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/agents")).StatusCode);
        // A viewer token cannot scan or manage tokens.
        Assert.Equal(HttpStatusCode.Forbidden, (await http.PostAsync($"/api/v1/agents/{f.Payments}/scan", new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/api/v1/tokens")).StatusCode);

        var listed = (await M.Client.ListApiTokensAsync(new ListApiTokensRequest())).Tokens.Single(t => t.TokenId == created.Token.TokenId);
        Assert.Equal("viewer", listed.Role);
        Assert.NotNull(listed.LastUsedAt);
        Assert.Null(listed.RevokedAt);
        var stored = await f.Nats.Client.ReadAsync($"KV_{Subjects.ApiTokensBucket}", $"$KV.{Subjects.ApiTokensBucket}.{created.Token.TokenId}");
        Assert.DoesNotContain(created.Secret[("fimt_".Length + 17)..], Encoding.UTF8.GetString(stored[^1].Data));

        // A token with a wrong secret part for an existing id is refused.
        var forged = created.Secret[..^4] + (created.Secret.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        Assert.Equal(HttpStatusCode.Unauthorized, (await M.HttpWithToken(forged).GetAsync("/api/v1/agents")).StatusCode);

        var revoked = await M.Client.RevokeApiTokenAsync(new RevokeApiTokenRequest { TokenId = created.Token.TokenId });
        Assert.NotNull(revoked.RevokedAt);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/agents")).StatusCode);

        var shortLived = await M.Client.CreateApiTokenAsync(new CreateApiTokenRequest { Name = "short", Role = "admin", TtlSeconds = 1 });
        var shortHttp = M.HttpWithToken(shortLived.Secret);
        await Eventually.TrueAsync(async () => (await shortHttp.GetAsync("/api/v1/agents")).StatusCode == HttpStatusCode.Unauthorized, "the expired API token refused");

        // Analysts may not mint tokens; bad input names the field.
        var denied = await Assert.ThrowsAsync<RpcException>(() => M.ClientAs(OidcProvider.Analyst).CreateApiTokenAsync(new CreateApiTokenRequest { Name = "x", Role = "admin" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        var invalid = await Assert.ThrowsAsync<RpcException>(() => M.Client.CreateApiTokenAsync(new CreateApiTokenRequest { Name = "x", Role = "root" }).ResponseAsync);
        Assert.StartsWith("role: 'root'", invalid.Status.Detail);
    }

    [Fact]
    public async Task The_browser_login_goes_through_the_provider_s_login_page_and_ends_with_a_session()
    {
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies, AllowAutoRedirect = true })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{M.HttpPort}"),
        };
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/v1/agents")).StatusCode);

        // /login -> the provider's authorization endpoint -> its login page.
        var page = await browser.GetAsync("/login?returnUrl=/api/v1/agents");
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, html);
        Assert.StartsWith(Oidc.Issuer + "/interaction/", page.RequestMessage!.RequestUri!.ToString());
        var action = new Uri(page.RequestMessage.RequestUri, BrowserLogin.Form(html).Action);

        // A wrong password stays on the provider.
        var wrong = await browser.PostAsync(action, new FormUrlEncodedContent(new Dictionary<string, string> { ["login"] = OidcProvider.AccountLogin, ["password"] = "wrong" }));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        var afterLogin = await browser.PostAsync(action, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["login"] = OidcProvider.AccountLogin,
            ["password"] = Oidc.AccountPassword,
        }));
        // The provider redirects to the manager's callback with the code in the query (response_mode=query: a top-level
        // GET, so the correlation cookie can be SameSite=Lax and a browser keeps it on plain HTTP too), and the manager on.
        var signedIn = afterLogin;
        Assert.True(signedIn.StatusCode == HttpStatusCode.OK, await signedIn.Content.ReadAsStringAsync());
        Assert.EndsWith("/api/v1/agents", signedIn.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains(cookies.GetCookies(new Uri($"http://127.0.0.1:{M.HttpPort}")), c => c.Name == "fim_session" && c.HttpOnly);

        using var me = JsonDocument.Parse(await browser.GetStringAsync("/me"));
        Assert.Equal(OidcProvider.AccountLogin, me.RootElement.GetProperty("subject").GetString());
        Assert.Equal("admin", me.RootElement.GetProperty("grants")[0].GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/tokens")).StatusCode);

        // Logging out ends the session at the manager (and then at the provider).
        using var noRedirect = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{M.HttpPort}"),
        };
        var logout = await noRedirect.PostAsync("/logout", null);
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.StartsWith(Oidc.Issuer, logout.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await noRedirect.GetAsync("/api/v1/agents")).StatusCode);
    }

    [Fact]
    public void Namespace_limits_hold_for_records_of_policies_in_those_namespaces_only()
    {
        var grant = new Security.Grant(Security.Role.Viewer, Namespaces: ["payments"]);
        Assert.True(grant.AllowsPolicy("payments/etc"));
        Assert.False(grant.AllowsPolicy("web/etc"));
        Assert.False(grant.AllowsPolicy("default.etc"));
        Assert.False(grant.AllowsPolicy(null));
        var caller = new Security.CallerAccess("x", "test", [grant]);
        Assert.True(caller.SeesRecord(null, "payments/etc"));
        Assert.False(caller.SeesRecord(null, "web/etc", Security.Role.Analyst));
        Assert.True(new Security.Grant(Security.Role.Viewer).AllowsPolicy(null));
    }

    private static JsonElement Claims(string jwt) => JsonDocument.Parse(Unb64(jwt.Split('.')[1])).RootElement;

    private static JsonElement Header(string jwt) => JsonDocument.Parse(Unb64(jwt.Split('.')[0])).RootElement;

    private static string Resign(string jwt, RSA key)
    {
        var parts = jwt.Split('.');
        var signature = key.SignData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{parts[0]}.{parts[1]}.{B64(signature)}";
    }

    private static string B64(string text) => B64(Encoding.UTF8.GetBytes(text));

    private static string B64(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] Unb64(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s + new string('=', (4 - s.Length % 4) % 4));
    }
}

using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Fim.Testing;

namespace Fim.Deploy.Tests;

/// <summary>
/// A real agent and a real manager (alert and scan indexers on SQLite) behind nats-server loaded with the bundled
/// authorization exactly as the chart renders it, over mutual TLS: the agent's events become stored alerts and its
/// scan records stored scans, a review and the compliance report see both, and the server logs no permissions violation. Checking the rendered permissions
/// against a generator does not catch a subject both forgot; this does (acking FIM_ALERTS was one).
/// </summary>
public sealed class ShippedAuthorizationPipelineTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Events_alerts_and_scan_records_flow_under_the_charts_authorization_without_a_violation()
    {
        var auth = HelmRender.BundledNatsConfig("nats.bundled.authorization.agents={node-a}")["auth.conf"];
        using var certs = TestCertificates.Create();
        await using var server = await NatsServer.StartAsync($$"""
            {{certs.NatsServerTls}}
            {{auth}}
            """);
        var url = $"tls://127.0.0.1:{server.Port}";
        var root = Directory.CreateTempSubdirectory("fim-shipped-authz-").FullName;
        var oidc = await OidcProvider.SharedAsync();
        ChildProcess? manager = null, agent = null;
        try
        {
            var (managerCert, managerKey) = certs.Issue("manager", "manager.fim");
            var http = NatsServer.FreePort();
            var env = oidc.ManagerSettings(browserLogin: false).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value ?? "");
            env["Fim__Nats__Url"] = url;
            env["Fim__Nats__TlsCaFile"] = certs.CaCert;
            env["Fim__Nats__TlsCertFile"] = managerCert;
            env["Fim__Nats__TlsKeyFile"] = managerKey;
            env["Fim__Api__Address"] = "127.0.0.1";
            env["Fim__Api__HttpPort"] = http.ToString();
            env["Fim__Api__GrpcPort"] = NatsServer.FreePort().ToString();
            env["Fim__Store__DataDirectory"] = Path.Combine(root, "store");
            // The waits below poll the API every 20 ms: on a busy machine the default 600 a minute ran out before the
            // alert was stored, and a 429 failed the test. Rate limits are AuthTests' subject, not this one's.
            env["Fim__Api__RequestsPerCallerPerMinute"] = "1000000";
            manager = ChildProcess.Dotnet(Programs.Manager, [], env);
            using var api = new HttpClient(oidc.BearerHandler(OidcProvider.Admin)) { BaseAddress = new Uri($"http://127.0.0.1:{http}"), Timeout = TimeSpan.FromSeconds(30) };
            await Eventually.TrueAsync(async () => !manager.HasExited && await ReadyAsync(api), () => $"the manager to be ready\n{manager.Output}", Deadline);

            var (agentCert, agentKey) = certs.Issue("node-a", "node-a.agents.fim");
            var tree = Directory.CreateDirectory(Path.Combine(root, "tree")).FullName;
            File.WriteAllText(Path.Combine(tree, "app.conf"), "v1");
            var policy = Path.Combine(root, "policy.yaml");
            File.WriteAllText(policy, $"name: shipped\npaths:\n  - path: {tree}\n");
            var config = Path.Combine(root, "agent.yaml");
            File.WriteAllText(config, $"""
                agentId: node-a
                nats:
                  url: {url}
                  tls:
                    caFile: {certs.CaCert}
                    certFile: {agentCert}
                    keyFile: {agentKey}
                stateDir: {Path.Combine(root, "state")}
                keyFile: {Path.Combine(root, "keys", "baseline.key")}
                policyFile: {policy}
                heartbeatInterval: 2s
                """);
            agent = ChildProcess.Agent(["run", "--config", config]);
            await agent.AwaitLogAsync("revision 0 applied", Deadline);
            File.WriteAllText(Path.Combine(tree, "app.conf"), "v2 from an intruder");

            var changed = Path.Combine(tree, "app.conf");
            await Eventually.TrueAsync(async () => (await GetAsync(api, "/api/v1/alerts?agentId=node-a")).GetProperty("alerts").EnumerateArray()
                    .Any(a => a.GetProperty("path").GetString() == changed),
                () => $"the change to be stored and searchable\n{manager.Output}\n{agent.Output}\n{server.Log}", Deadline);
            await Eventually.TrueAsync(async () => (await GetAsync(api, "/api/v1/scans?agentId=node-a")).TryGetProperty("scans", out var scans) && scans.GetArrayLength() > 0,
                () => $"the agent's scan record to be stored\n{manager.Output}\n{agent.Output}\n{server.Log}", Deadline);
            using var agents = JsonDocument.Parse(await api.GetStringAsync("/api/v1/agents/node-a"));
            Assert.Equal("node-a", agents.RootElement.GetProperty("agentId").GetString());

            // The evidence end to end: the change reviewed through the API, and the compliance report shows the agent's
            // scans and the review, read from the store the indexers filled.
            var alertId = (await GetAsync(api, "/api/v1/alerts?agentId=node-a")).GetProperty("alerts").EnumerateArray()
                .First(a => a.GetProperty("path").GetString() == changed).GetProperty("alertId").GetString()!;
            using (var review = await api.PostAsync("/api/v1/alerts/review", JsonContent.Create(new { state = "expected", comment = "change ticket 42", alertIds = new[] { alertId } })))
            {
                Assert.True(review.IsSuccessStatusCode, await review.Content.ReadAsStringAsync());
            }
            var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            var row = (await GetAsync(api, $"/api/v1/reports/compliance?from={from}")).GetProperty("agents").EnumerateArray()
                .Single(a => a.GetProperty("agentId").GetString() == "node-a");
            Assert.True(long.Parse(row.GetProperty("scans").ToString(), CultureInfo.InvariantCulture) >= 1, row.ToString());
            Assert.Equal("1", row.GetProperty("reviewStates").GetProperty("expected").ToString());

            var violations = server.Log.Split('\n').Where(l => l.Contains("Violation", StringComparison.OrdinalIgnoreCase)).ToList();
            Assert.True(violations.Count == 0, $"the shipped authorization refused a subject a part uses:\n{string.Join('\n', violations)}");
        }
        finally
        {
            agent?.Dispose();
            manager?.Dispose();
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<bool> ReadyAsync(HttpClient api)
    {
        try
        {
            return (await api.GetAsync("/readyz")).IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static async Task<JsonElement> GetAsync(HttpClient api, string path) =>
        JsonDocument.Parse(await api.GetStringAsync(path)).RootElement.Clone();
}

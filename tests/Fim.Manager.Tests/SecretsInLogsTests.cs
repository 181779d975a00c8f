using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fim.Manager.Tests.Support;
using Fim.Testing;

namespace Fim.Manager.Tests;

/// <summary>
/// The manager as a real process at debug log level, driven through every way a secret reaches it (bearer JWTs good
/// and bad, API tokens created, used, forged and revoked, the browser login with its client secret, a forged login
/// callback): no secret appears in its output or in an error it returns, and the audit lines are there.
/// </summary>
public sealed class SecretsInLogsTests
{
    [Fact]
    public async Task No_token_or_client_secret_reaches_a_log_line_or_an_error_and_the_audit_names_who_did_what()
    {
        var oidc = await OidcProvider.SharedAsync();
        // NATS wants a password, given in the URL; the webhook's URL holds its token and redirects to another host.
        const string natsPassword = "MgrNatsPw-5e8c2a";
        await using var nats = await NatsServer.StartAsync($$"""authorization { users = [ { user: mgr, password: "{{natsPassword}}" } ] }""");
        using var elsewhere = new FakeWebhook(failFirst: 0);
        using var hook = new RedirectingWebhook(HttpStatusCode.TemporaryRedirect, elsewhere.Url);
        var (http, grpc) = (NatsServer.FreePort(), NatsServer.FreePort());
        var env = oidc.ManagerSettings(browserLogin: true).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value ?? "");
        env["Fim__Api__Address"] = "127.0.0.1";
        env["Fim__Telemetry__LogLevel"] = "Debug";
        // A password in the URL is refused before anything starts, and the refusal does not repeat it.
        env["Fim__Nats__Url"] = $"nats://mgr:{natsPassword}@127.0.0.1:{new Uri(nats.Url).Port}";
        var inUrl = await ChildProcess.RunAsync(ChildProcess.DotnetHost, [Programs.Manager], env, timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(2, inUrl.ExitCode);
        Assert.Contains("Fim:Nats:Url: must not hold credentials", inUrl.Stderr);
        Assert.DoesNotContain(natsPassword, inUrl.Output);
        env["Fim__Nats__Url"] = nats.Url;
        env["Fim__Nats__User"] = "mgr";
        env["Fim__Nats__Password"] = natsPassword;
        env["Fim__Sinks__Webhook__Url"] = hook.Url;
        env["Fim__Sinks__Webhook__MinLevel"] = "1";
        env["Fim__Api__Address"] = "127.0.0.1";
        env["Fim__Api__HttpPort"] = http.ToString();
        env["Fim__Api__GrpcPort"] = grpc.ToString();
        env["Fim__Store__DataDirectory"] = Path.Combine(nats.WorkDir, "manager-store");
        env["Fim__Telemetry__LogLevel"] = "Debug";
        using var manager = ChildProcess.Dotnet(Programs.Manager, [], env);
        var baseUrl = $"http://127.0.0.1:{http}";
        using var anonymous = new HttpClient { BaseAddress = new Uri(baseUrl) };
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return (await anonymous.GetAsync("/readyz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, () => "manager ready\n" + manager.Output, TimeSpan.FromSeconds(60));

        var secrets = new List<string> { oidc.ClientSecrets[OidcProvider.BrowserClient], oidc.AccountPassword, natsPassword, hook.Url, "B000/secret", elsewhere.Url };
        var errors = new List<string>();
        async Task<HttpResponseMessage> CallAsync(string token, HttpMethod method, string path, object? body = null)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            var response = await anonymous.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                errors.Add(await response.Content.ReadAsStringAsync() + response.Headers.WwwAuthenticate);
            }
            return response;
        }

        var admin = await oidc.NewTokenAsync(OidcProvider.Admin);
        var viewer = await oidc.NewTokenAsync(OidcProvider.Viewer);
        var wrongAudience = await oidc.NewTokenAsync(OidcProvider.Viewer, OidcProvider.OtherAudience);
        secrets.AddRange([admin, viewer, wrongAudience, admin.Split('.')[2], viewer.Split('.')[2]]);
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(viewer, HttpMethod.Get, "/api/v1/agents")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await CallAsync(wrongAudience, HttpMethod.Get, "/api/v1/agents")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await CallAsync(viewer, HttpMethod.Post, "/api/v1/agents/node-1/scan", new { })).StatusCode);

        var created = await CallAsync(admin, HttpMethod.Post, "/api/v1/tokens", new { name = "automation", role = "viewer" });
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        using var createdBody = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var apiToken = createdBody.RootElement.GetProperty("secret").GetString()!;
        var tokenId = createdBody.RootElement.GetProperty("token").GetProperty("tokenId").GetString()!;
        var secretPart = apiToken[("fimt_".Length + 17)..];
        var forged = $"fimt_{tokenId}_{new string('A', 43)}";
        secrets.AddRange([apiToken, secretPart, forged]);
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(apiToken, HttpMethod.Get, "/api/v1/alerts")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await CallAsync(forged, HttpMethod.Get, "/api/v1/alerts")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(admin, HttpMethod.Delete, $"/api/v1/tokens/{tokenId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await CallAsync(apiToken, HttpMethod.Get, "/api/v1/alerts")).StatusCode);

        // The browser login: the manager exchanges the code with its client secret.
        using var browser = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(baseUrl) };
        var loggedIn = await BrowserLogin.LoginAsync(browser, oidc);
        Assert.True(loggedIn.StatusCode == HttpStatusCode.OK, await loggedIn.Content.ReadAsStringAsync() + manager.Output);
        // A forged callback (no correlation) is a failed login.
        var forgedCallback = await anonymous.PostAsync("/signin-oidc", new FormUrlEncodedContent(new Dictionary<string, string> { ["code"] = "x", ["state"] = "y" }));
        Assert.Equal(HttpStatusCode.Unauthorized, forgedCallback.StatusCode);
        errors.Add(await forgedCallback.Content.ReadAsStringAsync());

        // An alert for the webhook, which redirects it away: refused, and said so.
        await using (var publisher = await NatsTestClient.ConnectAsync(nats.Url, o => o with { AuthOpts = NATS.Client.Core.NatsAuthOpts.Default with { Username = "mgr", Password = natsPassword } }))
        {
            // The sink's consumer takes new alerts only: publish until one reached it.
            await Eventually.TrueAsync(async () =>
            {
                await publisher.PublishEventAsync(TestEvents.Event(TestEvents.NewAgentId(), "/etc/shadow", "modified"));
                return manager.AllOutput.Contains("redirect to another host", StringComparison.Ordinal);
            }, () => "the webhook's redirect refused\n" + manager.Output);
        }
        Assert.Empty(elsewhere.Bodies);

        await Eventually.TrueAsync(() => manager.AllOutput.Contains("\"AuditAction\":\"revoke-token\"", StringComparison.Ordinal)
            && manager.AllOutput.Contains("\"AuditScheme\":\"OpenIdConnect\"", StringComparison.Ordinal), () => "audit lines\n" + manager.Output);
        manager.Terminate();
        await manager.WaitForExitAsync();
        var output = manager.AllOutput;
        Assert.Contains("\"@l\":\"Debug\"", output); // really at debug level
        foreach (var secret in secrets)
        {
            Assert.False(output.Contains(secret, StringComparison.Ordinal), $"a secret ({secret[..Math.Min(6, secret.Length)]}...) is in the manager's output");
            Assert.DoesNotContain(errors, e => e.Contains(secret, StringComparison.Ordinal));
        }

        var audit = output.Split('\n').Where(l => l.Contains("\"SourceContext\":\"Fim.Audit\"", StringComparison.Ordinal)).ToList();
        bool Has(string line, params string[] parts) => parts.All(p => line.Contains(p, StringComparison.Ordinal));
        Assert.True(audit.Count >= 7, $"{audit.Count} audit lines of {output.Split('\n').Length}:\n{string.Join("\n", audit)}");
        Assert.Contains(audit, l => Has(l, "\"AuditAction\":\"create-token\"", "\"AuditTarget\":\"automation\"", "\"AuditWho\":\"admin-bot\"",
            "\"AuditFrom\":\"127.0.0.1\"", "\"AuditWhen\":", "\"AuditOutcome\":\"ok\""));
        Assert.Contains(audit, l => Has(l, "\"AuditAction\":\"revoke-token\"", $"\"AuditTarget\":\"{tokenId}\""));
        Assert.Contains(audit, l => Has(l, "\"AuditAction\":\"scan\"", "\"AuditStatus\":403", "\"AuditWho\":\"viewer-bot\""));
        Assert.Contains(audit, l => Has(l, "\"AuditScheme\":\"Bearer\"", "audience"));
        Assert.Contains(audit, l => Has(l, "\"AuditScheme\":\"ApiToken\"", "revoked"));
        Assert.Contains(audit, l => Has(l, "\"AuditScheme\":\"ApiToken\"", $"unknown API token {tokenId}"));
        Assert.Contains(audit, l => Has(l, "\"AuditAction\":\"login\"", $"\"AuditWho\":\"{OidcProvider.AccountLogin}\""));
    }
}

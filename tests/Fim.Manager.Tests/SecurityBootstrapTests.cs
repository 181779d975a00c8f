using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fim.Testing;

namespace Fim.Manager.Tests;

/// <summary>
/// The first admin of a site without an IdP: a manager process with no OIDC settings at all registers the token from
/// Fim:Auth:Tokens:BootstrapTokenFile as an admin token, which can create real tokens and be revoked for good.
/// </summary>
public sealed class SecurityBootstrapTests
{
    [Fact]
    public async Task A_bootstrap_token_from_a_file_lets_a_site_without_an_idp_create_tokens_and_is_never_renewed()
    {
        await using var nats = await NatsServer.StartAsync();
        var made = await ChildProcess.RunAsync(ChildProcess.DotnetHost, [Programs.Manager, "bootstrap-token"]);
        Assert.True(made.ExitCode == 0, made.Output);
        var bootstrap = made.Stdout.Trim();
        Assert.StartsWith("fimt_", bootstrap);
        var file = Path.Combine(nats.WorkDir, "bootstrap.token");
        await File.WriteAllTextAsync(file, bootstrap + "\n");

        string baseUrl;
        Dictionary<string, string> Env(int http, int grpc) => new()
        {
            ["Fim__Nats__Url"] = nats.Url,
            ["Fim__Api__Address"] = "127.0.0.1",
            ["Fim__Api__HttpPort"] = http.ToString(),
            ["Fim__Api__GrpcPort"] = grpc.ToString(),
            ["Fim__Auth__Tokens__BootstrapTokenFile"] = file,
            ["Fim__Store__DataDirectory"] = Path.Combine(nats.WorkDir, "manager-store"),
            ["Fim__Telemetry__LogLevel"] = "Debug",
        };
        var (http1, grpc1) = (NatsServer.FreePort(), NatsServer.FreePort());
        baseUrl = $"http://127.0.0.1:{http1}";
        string firstOutput;
        string created;
        string bootstrapId = bootstrap.Substring("fimt_".Length, 16);
        using (var manager = ChildProcess.Dotnet(Programs.Manager, [], Env(http1, grpc1)))
        {
            await AwaitReadyAsync(baseUrl, manager);
            using var asBootstrap = Client(baseUrl, bootstrap);
            // It may have to wait for the registration, which runs beside the start.
            await Eventually.TrueAsync(async () => (await asBootstrap.GetAsync("/api/v1/tokens")).StatusCode == HttpStatusCode.OK,
                () => "the bootstrap token accepted\n" + manager.Output);

            using var tokens = JsonDocument.Parse(await asBootstrap.GetStringAsync("/api/v1/tokens"));
            var listed = tokens.RootElement.GetProperty("tokens").EnumerateArray().Single(t => t.GetProperty("tokenId").GetString() == bootstrapId);
            Assert.Equal("bootstrap", listed.GetProperty("name").GetString());
            Assert.Equal("admin", listed.GetProperty("role").GetString());
            var expires = listed.GetProperty("expiresAt").GetDateTimeOffset();
            Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromHours(24.1));

            var response = await asBootstrap.PostAsJsonAsync("/api/v1/tokens", new { name = "ops", role = "admin" });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            created = body.RootElement.GetProperty("secret").GetString()!;
            using var asOps = Client(baseUrl, created);
            Assert.Equal(HttpStatusCode.OK, (await asOps.GetAsync("/api/v1/agents")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await asOps.DeleteAsync($"/api/v1/tokens/{bootstrapId}")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await asBootstrap.GetAsync("/api/v1/agents")).StatusCode);
            firstOutput = manager.AllOutput;
        }
        // Compact JSON logs quote the parameters in the message: match the template's words and the id apart.
        Assert.Contains(firstOutput.Split('\n'), l => l.Contains("(admin) registered", StringComparison.Ordinal) && l.Contains(bootstrapId, StringComparison.Ordinal));

        // A restart with the same file: the token stays revoked (registered once, never renewed or revived).
        var (http2, grpc2) = (NatsServer.FreePort(), NatsServer.FreePort());
        baseUrl = $"http://127.0.0.1:{http2}";
        using (var again = ChildProcess.Dotnet(Programs.Manager, [], Env(http2, grpc2)))
        {
            await AwaitReadyAsync(baseUrl, again);
            await again.AwaitLogAsync("is registered already; it is never renewed", TimeSpan.FromSeconds(30));
            using var asBootstrap = Client(baseUrl, bootstrap);
            Assert.Equal(HttpStatusCode.Unauthorized, (await asBootstrap.GetAsync("/api/v1/agents")).StatusCode);
            using var asOps = Client(baseUrl, created);
            Assert.Equal(HttpStatusCode.OK, (await asOps.GetAsync("/api/v1/agents")).StatusCode);
            foreach (var output in new[] { firstOutput, again.AllOutput })
            {
                Assert.DoesNotContain(bootstrap, output);
                Assert.DoesNotContain(bootstrap[("fimt_".Length + 17)..], output);
                Assert.DoesNotContain(created, output);
            }
        }

        // A file that holds no token stops the start, naming the setting and not the content.
        var bad = Path.Combine(nats.WorkDir, "bad.token");
        await File.WriteAllTextAsync(bad, "fimt_not-a-token-s3cr3t");
        var env = Env(NatsServer.FreePort(), NatsServer.FreePort());
        env["Fim__Auth__Tokens__BootstrapTokenFile"] = bad;
        var refused = await ChildProcess.RunAsync(ChildProcess.DotnetHost, [Programs.Manager], env, timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("Fim:Auth:Tokens:BootstrapTokenFile", refused.Stderr);
        Assert.DoesNotContain("s3cr3t", refused.Output);
    }

    private static HttpClient Client(string baseUrl, string token)
    {
        var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task AwaitReadyAsync(string baseUrl, ChildProcess manager)
    {
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
        }, () => "manager ready\n" + manager.Output, TimeSpan.FromSeconds(90));
    }
}

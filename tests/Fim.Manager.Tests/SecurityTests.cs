extern alias ctl;

using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Fim.Manager.Tests.Support;
using Fim.Testing;
using NATS.Client.Core;

namespace Fim.Manager.Tests;

/// <summary>
/// Mutual TLS to NATS (the client certificate's DNS SAN is the NATS user, verify_and_map), and TLS on the API (gRPC and
/// REST on one port). User/password cannot be tested here: NATS.Client 3.3.2 loads NATS.NKeys for any credential
/// authentication, and that package is missing from this machine's NuGet mirror (see docs/manager.md).
/// </summary>
public sealed class SecurityTests : IAsyncLifetime
{
    private TestCertificates _certs = null!;
    private NatsServer _server = null!;

    public async Task InitializeAsync()
    {
        _certs = TestCertificates.Create();
        _server = await NatsServer.StartAsync($$"""
            {{_certs.NatsServerTls}}
            authorization {
              users: [ { user: "manager.fim" } ]
            }
            """);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _certs.Dispose();
    }

    [Fact]
    public async Task Manager_reaches_nats_over_mutual_tls_and_serves_its_api_over_tls()
    {
        var (clientCert, clientKey) = _certs.Issue("manager", "manager.fim");
        var (apiCert, apiKey) = _certs.Issue("api", "127.0.0.1", ip: true);
        var url = $"tls://127.0.0.1:{_server.Port}";
        await using var manager = await TestManager.StartAsync(url, new Dictionary<string, string?>
        {
            ["Fim:Nats:TlsCaFile"] = _certs.CaCert,
            ["Fim:Nats:TlsCertFile"] = clientCert,
            ["Fim:Nats:TlsKeyFile"] = clientKey,
            ["Fim:Api:TlsCertFile"] = apiCert,
            ["Fim:Api:TlsKeyFile"] = apiKey,
        });
        await using var client = await NatsTestClient.ConnectAsync(url, o => o with
        {
            TlsOpts = NatsTlsOpts.Default with { CaFile = _certs.CaCert, CertFile = clientCert, KeyFile = clientKey, Mode = TlsMode.Require },
        });
        var agent = TestEvents.NewAgentId();
        await client.PublishEventAsync(TestEvents.Event(agent));
        Assert.Single(await Eventually.CountAsync(() => client.AlertsAsync(agent), 1, "alert over TLS"));

        // REST over HTTPS on the HTTP port, trusting only the test CA.
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(_certs.CaCert));
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None && chain.Build(new X509Certificate2(cert!));
                },
            },
        };
        using var https = new HttpClient(manager.Oidc.BearerHandler(Fim.Testing.OidcProvider.Viewer, handler)) { BaseAddress = new Uri($"https://127.0.0.1:{manager.HttpPort}") };
        await manager.AwaitStoredAsync(1);
        using var alerts = JsonDocument.Parse(await https.GetStringAsync($"/api/v1/alerts?agentId={agent}"));
        Assert.Equal(1, alerts.RootElement.GetProperty("alerts").GetArrayLength());

        // gRPC over TLS (HTTP/2 by ALPN) on that same port, through fimctl with --ca-file.
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var token = await manager.Oidc.TokenAsync(Fim.Testing.OidcProvider.Viewer);
        var code = await new ctl::Fim.Ctl.Cli(stdout, stderr, name => name == "FIM_TOKEN" ? token : null).RunAsync(
            ["alerts", "--agent", agent, "--json", "--server", $"https://127.0.0.1:{manager.HttpPort}", "--ca-file", _certs.CaCert]);
        Assert.True(code == 0, stderr.ToString());
        Assert.Contains(agent, stdout.ToString());
    }

    [Fact]
    public async Task Certificate_from_another_ca_keeps_the_manager_unready()
    {
        using var strangers = TestCertificates.Create();
        var (cert, key) = strangers.Issue("intruder", "manager.fim");
        await using var manager = await TestManager.StartAsync($"tls://127.0.0.1:{_server.Port}", new Dictionary<string, string?>
        {
            ["Fim:Nats:TlsCaFile"] = _certs.CaCert,
            ["Fim:Nats:TlsCertFile"] = cert,
            ["Fim:Nats:TlsKeyFile"] = key,
        }, waitReady: false);

        await Eventually.TrueAsync(async () => (await manager.Http.GetAsync("/readyz")).StatusCode == System.Net.HttpStatusCode.ServiceUnavailable,
            "readyz answers 503");
        Assert.False(manager.Readiness.IsReady);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await manager.Http.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public void Nats_options_never_print_the_password()
    {
        var options = new Options.NatsOptions { User = "manager", Password = "s3cret-91c" };

        Assert.DoesNotContain("s3cret-91c", options.ToString());
        Assert.Contains("Login=user manager with password", options.ToString());
    }
}

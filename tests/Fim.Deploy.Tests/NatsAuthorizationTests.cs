using Fim.Contracts;
using System.Text;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fim.Deploy.Tests;

/// <summary>The bundled NATS authorization the chart renders, loaded into a real nats-server with TLS verify_and_map.</summary>
public sealed class NatsAuthorizationTests
{
    [Fact]
    public async Task An_agent_may_publish_its_own_events_only()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        var auth = HelmRender.BundledNatsConfig("nats.bundled.authorization.agents={node-a,node-b}", "nats.bundled.authorization.admins={admin.fim}")["auth.conf"];

        using var certs = TestCertificates.Create();
        await using var server = await NatsServer.StartAsync(certs.NatsServerTls + "\n" + auth);

        NatsOpts Client(string name, string san, string? inbox = null)
        {
            var (cert, key) = certs.Issue(name, san);
            var opts = NatsOpts.Default with
            {
                Url = $"tls://127.0.0.1:{server.Port}",
                TlsOpts = new NatsTlsOpts { Mode = TlsMode.Require, CaFile = certs.CaCert, CertFile = cert, KeyFile = key },
                // The client's own 2 s default does not cover a TLS handshake on a saturated machine.
                ConnectTimeout = Eventually.DefaultTimeout,
                RequestTimeout = TimeSpan.FromSeconds(2),
            };
            return inbox is null ? opts : opts with { InboxPrefix = inbox };
        }

        await using (var admin = new NatsConnection(Client("admin", "admin.fim")))
        {
            var js = new NatsJSContext(admin);
            await js.CreateStreamAsync(new StreamConfig(Subjects.EventsStream, [Subjects.AllEvents]), ct);
        }

        await using var agent = new NatsConnection(Client("node-a", "node-a.agents.fim", "_INBOX.node-a"));
        var agentJs = new NatsJSContext(agent, new NatsJSOpts(agent.Opts) { });
        var ok = await agentJs.PublishAsync(Subjects.Events("node-a"), Encoding.UTF8.GetBytes("{}"), cancellationToken: ct);
        ok.EnsureSuccess();
        Assert.Equal(1ul, ok.Seq);

        // Another agent's subject: the server refuses the publish, JetStream never acks it.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
            (await agentJs.PublishAsync(Subjects.Events("node-b"), Encoding.UTF8.GetBytes("{}"), opts: new NatsJSPubOpts { RetryAttempts = 1 }, cancellationToken: ct)).EnsureSuccess());

        Assert.Contains(server.Log.Split('\n'), l => l.Contains("Violation", StringComparison.OrdinalIgnoreCase) && l.Contains(Subjects.Events("node-b")));

        // Alerts are the managers' job.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
            (await agentJs.PublishAsync("fim.alerts.15.node-a", Encoding.UTF8.GetBytes("{}"), opts: new NatsJSPubOpts { RetryAttempts = 1 }, cancellationToken: ct)).EnsureSuccess());

        await using (var admin = new NatsConnection(Client("admin2", "admin.fim")))
        {
            var s = await new NatsJSContext(admin).GetStreamAsync(Subjects.EventsStream, cancellationToken: ct);
            Assert.Equal(1, (int)s.Info.State.Messages);
        }

        // A certificate that maps to no user is refused at connect.
        await using var stranger = new NatsConnection(Client("stranger", "stranger.example") with { MaxReconnectRetry = 0 });
        await Assert.ThrowsAnyAsync<Exception>(async () => await stranger.ConnectAsync());
    }
}

public sealed class BundledNatsConfigTests
{
    [Fact]
    public void Rendered_server_config_passes_nats_server_config_test()
    {
        var config = HelmRender.BundledNatsConfig("nats.bundled.authorization.agents={node-a}");
        using var certs = Fim.Testing.TestCertificates.Create();
        var dir = Directory.CreateTempSubdirectory("fim-nats-conf-");
        try
        {
            var conf = config["nats.conf"]
                .Replace("/etc/nats/tls/tls.crt", certs.ServerCert).Replace("/etc/nats/tls/tls.key", certs.ServerKey).Replace("/etc/nats/tls/ca.crt", certs.CaCert)
                .Replace("store_dir: /data", $"store_dir: \"{dir.FullName}/js\"").Replace("/var/run/nats/", dir.FullName + "/");
            File.WriteAllText(Path.Combine(dir.FullName, "nats.conf"), conf);
            File.WriteAllText(Path.Combine(dir.FullName, "auth.conf"), config["auth.conf"]);
            var env = new Dictionary<string, string> { ["POD_NAME"] = "fim-nats-0" };
            var ok = ChildProcess.Run("nats-server", ["-c", Path.Combine(dir.FullName, "nats.conf"), "-t"], env, dir.FullName);
            Assert.True(ok.ExitCode == 0, ok.Output);

            // the check is real: a broken block is refused
            File.WriteAllText(Path.Combine(dir.FullName, "nats.conf"), conf.Replace("jetstream {", "jetstream {{"));
            var bad = ChildProcess.Run("nats-server", ["-c", Path.Combine(dir.FullName, "nats.conf"), "-t"], env, dir.FullName);
            Assert.NotEqual(0, bad.ExitCode);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

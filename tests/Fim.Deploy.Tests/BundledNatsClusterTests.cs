using Fim.Contracts;
using System.Text;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fim.Deploy.Tests;

/// <summary>
/// The bundled NATS StatefulSet's configuration run as three real nats-servers on loopback (ports and paths swapped
/// for local ones, everything else as rendered): TLS routes form the cluster and JetStream keeps an R3 stream.
/// </summary>
public sealed class BundledNatsClusterTests
{
    [Fact]
    public async Task Three_rendered_servers_form_a_JetStream_cluster_over_TLS_routes()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        var config = HelmRender.BundledNatsConfig("nats.bundled.authorization.agents={node-a}", "nats.bundled.authorization.admins={admin.fim}");
        var rendered = config["nats.conf"];
        var routes = rendered.Split('\n').Where(l => l.Trim().StartsWith("nats://", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
        Assert.Equal(3, routes.Count);

        using var certs = TestCertificates.Create();
        var root = Directory.CreateTempSubdirectory("fim-nats-cluster-");
        var servers = new List<ChildProcess>();
        try
        {
            var clientPorts = Enumerable.Range(0, 3).Select(_ => NatsServer.FreePort()).ToArray();
            var routePorts = Enumerable.Range(0, 3).Select(_ => NatsServer.FreePort()).ToArray();
            var httpPorts = Enumerable.Range(0, 3).Select(_ => NatsServer.FreePort()).ToArray();
            for (var i = 0; i < 3; i++)
            {
                var dir = Directory.CreateDirectory(Path.Combine(root.FullName, $"fim-nats-{i}")).FullName;
                var conf = rendered
                    .Replace("listen: 0.0.0.0:4222", $"listen: 127.0.0.1:{clientPorts[i]}")
                    .Replace("http: 0.0.0.0:8222", $"http: 127.0.0.1:{httpPorts[i]}")
                    .Replace("listen: 0.0.0.0:6222", $"listen: 127.0.0.1:{routePorts[i]}")
                    .Replace("/etc/nats/tls/tls.crt", certs.ServerCert).Replace("/etc/nats/tls/tls.key", certs.ServerKey).Replace("/etc/nats/tls/ca.crt", certs.CaCert)
                    .Replace("store_dir: /data", $"store_dir: \"{dir}/js\"")
                    .Replace("/var/run/nats/", dir + "/");
                for (var r = 0; r < 3; r++)
                {
                    conf = conf.Replace(routes[r], $"nats://127.0.0.1:{routePorts[r]}");
                }
                Assert.DoesNotContain("0.0.0.0", conf);
                File.WriteAllText(Path.Combine(dir, "nats.conf"), conf);
                File.WriteAllText(Path.Combine(dir, "auth.conf"), config["auth.conf"]);
                servers.Add(new ChildProcess("nats-server", ["-c", Path.Combine(dir, "nats.conf")], new Dictionary<string, string> { ["POD_NAME"] = $"fim-nats-{i}" }, dir));
            }

            var (cert, key) = certs.Issue("admin", "admin.fim");
            await using var nats = new NatsConnection(NatsOpts.Default with
            {
                Url = string.Join(",", clientPorts.Select(p => $"tls://127.0.0.1:{p}")),
                TlsOpts = new NatsTlsOpts { Mode = TlsMode.Require, CaFile = certs.CaCert, CertFile = cert, KeyFile = key },
                RetryOnInitialConnect = true,
            });
            var js = new NatsJSContext(nats);

            // The meta leader needs the three routes up: the R3 stream can be created only then.
            INatsJSStream? stream = null;
            await Eventually.TrueAsync(
                async () => (stream = await js.CreateStreamAsync(new StreamConfig(Subjects.EventsStream, [Subjects.AllEvents]) { NumReplicas = 3, Storage = StreamConfigStorage.File }, ct)) is not null,
                () => $"the R3 stream created\n{string.Join('\n', servers.Select(s => s.Output))}", TimeSpan.FromSeconds(90));
            Assert.NotNull(stream);
            Assert.Equal("fim", stream.Info.Cluster!.Name);
            Assert.Equal(2, stream.Info.Cluster.Replicas!.Count);
            Assert.All(servers, s => Assert.False(s.HasExited));

            for (var i = 0; i < 20; i++)
            {
                (await js.PublishAsync($"fim.events.node-{i % 3}", Encoding.UTF8.GetBytes($"event {i}"), cancellationToken: ct)).EnsureSuccess();
            }
            await stream.RefreshAsync(ct);
            Assert.Equal(20, (int)stream.Info.State.Messages);
        }
        finally
        {
            foreach (var s in servers)
            {
                s.Dispose();
            }
            root.Delete(recursive: true);
        }
    }
}

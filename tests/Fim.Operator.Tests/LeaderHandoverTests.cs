using System.Diagnostics;
using System.Net;
using Fim.Operator.Tests.Support;
using Fim.Testing;
using k8s;
using k8s.Autorest;

namespace Fim.Operator.Tests;

/// <summary>
/// Acceptance 4 of the cluster issue, second half: two real fim-operator processes against the API double, NATS
/// nowhere. SIGTERM to the leader releases the Lease, so the standby leads within 3 s; after SIGKILL it leads
/// within the lease duration + 2 s.
/// </summary>
[Collection(Serial.Name)]
public sealed class LeaderHandoverTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(4);

    private sealed class Operator(string name, ChildProcess process, int healthPort)
    {
        public string Name => name;
        public ChildProcess Process => process;
        public int HealthPort => healthPort;
    }

    private static Operator Start(string name, string kubeconfig, int natsPort)
    {
        var port = Fim.Testing.NatsServer.FreePort();
        var process = ChildProcess.Dotnet(
            Repository.BuiltDll("Fim.Operator", "fim-operator.dll"),
            [
                "run", "--kubeconfig", kubeconfig, "--nats-url", $"nats://127.0.0.1:{natsPort}", "--lease-namespace", "default",
                "--lease-duration", Lease.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "--renew-deadline", "3", "--retry-period", "0.5",
                "--metrics-bind-address", "127.0.0.1:0", "--health-bind-address", $"127.0.0.1:{port}",
            ],
            new Dictionary<string, string> { ["POD_NAME"] = name });
        return new Operator(name, process, port);
    }

    private static async Task<string?> HolderAsync(OperatorHarness h)
    {
        try
        {
            return (await h.Client.CoordinationV1.ReadNamespacedLeaseAsync("fim-operator", "default")).Spec?.HolderIdentity;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static async Task<HttpStatusCode?> ProbeAsync(HttpClient http, Operator op, string path)
    {
        try
        {
            return (await http.GetAsync($"http://127.0.0.1:{op.HealthPort}{path}")).StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    [Theory]
    [InlineData("SIGTERM")]
    [InlineData("SIGKILL")]
    public async Task The_standby_takes_over_when_the_leader_stops(string signal)
    {
        await using var h = await OperatorHarness.StartAsync();
        var dir = Directory.CreateTempSubdirectory("fim-op-lease-");
        var kubeconfig = h.Server.WriteKubeconfig(Path.Combine(dir.FullName, "kubeconfig"));
        var natsPort = Fim.Testing.NatsServer.FreePort(); // nothing listens there: NATS is down throughout
        var a = Start("op-a", kubeconfig, natsPort);
        var b = Start("op-b", kubeconfig, natsPort);
        using var pa = a.Process;
        using var pb = b.Process;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            await Eventually.TrueAsync(async () => await HolderAsync(h) is { Length: > 0 }, () => "a leader\n" + pa.Output + "\n" + pb.Output);
            var holder = (await HolderAsync(h))!;
            var (leader, standby) = holder.StartsWith("op-a_", StringComparison.Ordinal) ? (a, b) : (b, a);
            foreach (var op in new[] { leader, standby })
            {
                await Eventually.TrueAsync(async () => await ProbeAsync(http, op, "/healthz") == HttpStatusCode.OK, () => $"{op.Name} /healthz 200 without NATS\n{op.Process.Output}");
                await Eventually.TrueAsync(async () => await ProbeAsync(http, op, "/readyz") == HttpStatusCode.OK, () => $"{op.Name} /readyz 200\n{op.Process.Output}");
            }

            var stopped = Stopwatch.StartNew();
            if (signal == "SIGTERM")
            {
                leader.Process.Terminate();
            }
            else
            {
                leader.Process.Kill();
            }

            await Eventually.TrueAsync(async () => (await HolderAsync(h))?.StartsWith(standby.Name + "_", StringComparison.Ordinal) == true, () => $"{standby.Name} to lead\n{leader.Process.Output}\n{standby.Process.Output}", TimeSpan.FromSeconds(20));
            var limit = signal == "SIGTERM" ? TimeSpan.FromSeconds(3) : Lease + TimeSpan.FromSeconds(2);
            Assert.True(stopped.Elapsed <= limit, $"{standby.Name} led {stopped.Elapsed.TotalSeconds:0.0} s after {signal} (limit {limit.TotalSeconds} s)\n{leader.Process.Output}");
            if (signal == "SIGTERM")
            {
                Assert.Equal(0, await leader.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
                Assert.Contains("released the lease", leader.Process.Output);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

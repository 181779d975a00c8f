using Fim.Contracts;
using Fim.Nats;
using Fim.Operator.Nats;
using Fim.Operator.Tests.Support;
using Fim.Testing;
using k8s;
using k8s.Models;
using Xunit.Abstractions;

namespace Fim.Operator.Tests;

/// <summary>
/// The operator's NATS user exactly as the chart renders it (bundled NATS, mutual TLS): the node hold-off's KV
/// fim-maintenance calls and the pool-scaled publish go through without a permissions violation, and a manager (its own
/// rendered user) posts the notification. Checking the template's text would not catch a subject it forgot.
/// </summary>
[Collection(Serial.Name)]
public sealed class OperatorNatsPermissionsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_charts_operator_user_may_keep_hold_off_windows_and_publish_scaling_notifications()
    {
        var r = KubeTools.Helm(["template", "rel", Repository.File("charts/fim"), "--namespace", "fim", "--set", "nats.mode=bundled", "--set", "nats.bundled.authorization.agents={node-a}"]);
        Assert.True(r.ExitCode == 0, r.Output);
        var configMap = r.Stdout.Split("\n---", StringSplitOptions.RemoveEmptyEntries)
            .Where(d => d.Contains("kind: ConfigMap", StringComparison.Ordinal) && d.Contains("auth.conf", StringComparison.Ordinal))
            .Select(d => KubernetesYaml.Deserialize<V1ConfigMap>(d)).Single();
        using var certs = TestCertificates.Create();
        await using var server = await NatsServer.StartAsync($"{certs.NatsServerTls}\n{configMap.Data["auth.conf"]}");
        var url = $"tls://127.0.0.1:{server.Port}";
        var root = Directory.CreateTempSubdirectory("fim-operator-authz-").FullName;
        using var webhook = new TextWebhook();
        var (managerCert, managerKey) = certs.Issue("manager", "manager.fim");
        using var managers = new ManagerProcesses(url, root, new Dictionary<string, string>
        {
            ["Fim__Nats__TlsCaFile"] = certs.CaCert,
            ["Fim__Nats__TlsCertFile"] = managerCert,
            ["Fim__Nats__TlsKeyFile"] = managerKey,
            ["Fim__Sinks__Webhook__Url"] = webhook.Url,
            ["Fim__Sinks__Webhook__MinLevel"] = "15",
            ["Fim__Maintenance__SummaryDelay"] = "00:00:01",
        });
        try
        {
            await ManagerProcesses.AwaitReadyAsync(managers.Start());

            var (operatorCert, operatorKey) = certs.Issue("operator", "operator.fim");
            await using var nats = new NatsKvConnection(new NatsClientOptions { Url = url, TlsCaFile = certs.CaCert, TlsCertFile = operatorCert, TlsKeyFile = operatorKey },
                TimeSpan.FromSeconds(5), new TestLoggers(output));
            using var stop = new CancellationTokenSource();
            var run = Task.Run(() => nats.RunAsync(stop.Token));
            var store = nats.MaintenanceStore;
            await Eventually.TrueAsync(async () =>
            {
                try
                {
                    await store.ListAsync(CancellationToken.None);
                    return true;
                }
                catch (KvUnavailableException)
                {
                    return false;
                }
            }, () => "KV fim-maintenance open for the operator\n" + server.Log, TimeSpan.FromSeconds(60));

            var now = DateTimeOffset.UtcNow;
            var window = new MaintenanceWindow
            {
                Id = "mw-00000000abcd",
                Start = now,
                End = now.AddDays(7),
                Reason = "node node-a cordoned",
                LevelReduction = 5,
                CreatedBy = "fim-operator",
                CreatedAt = now,
                AgentIds = ["node-a"],
                Node = "node-a",
                OnEnd = MaintenanceWindow.OnEndSummary,
            };
            await store.CreateAsync(window, CancellationToken.None);
            var stored = Assert.Single(await store.ListAsync(CancellationToken.None));
            stored.Window.EndedAt = DateTimeOffset.UtcNow;
            stored.Window.EndedBy = "fim-operator";
            await store.UpdateAsync(stored.Window, stored.Revision, CancellationToken.None);
            Assert.NotNull(Assert.Single(await store.ListAsync(CancellationToken.None)).Window.EndedAt);

            await nats.Notifications.PublishAsync(new Notification
            {
                Id = "pool-scaled:fim/managers:2-3:1",
                Kind = Notification.PoolScaled,
                Time = now,
                Source = "fim-operator",
                Regarding = "fim/managers",
                Text = "FIM manager pool fim/managers scaled up from 2 to 3 replicas: test",
            }, CancellationToken.None);
            await Eventually.TrueAsync(() => webhook.Texts.Any(t => t.Contains("scaled up from 2 to 3", StringComparison.Ordinal)),
                () => "the manager posted the operator's notification; got " + string.Join(" | ", webhook.Texts), TimeSpan.FromSeconds(60));
            // The manager summarized the closed window too (its own user): the hold-off works end to end under the chart's users.
            await Eventually.TrueAsync(() => webhook.Texts.Any(t => t.Contains("Node node-a back from maintenance", StringComparison.Ordinal)),
                () => "the window's summary; got " + string.Join(" | ", webhook.Texts), TimeSpan.FromSeconds(90));
            Assert.DoesNotContain("Permissions Violation", server.Log);
            await stop.CancelAsync();
            await run.ContinueWith(_ => { });
        }
        catch
        {
            output.WriteLine(string.Join('\n', server.Log.Split('\n').Where(l => l.Contains("Violation", StringComparison.Ordinal)).Take(20)));
            throw;
        }
        finally
        {
            managers.Dispose();
            Directory.Delete(root, recursive: true);
        }
    }
}

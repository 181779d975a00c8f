using Fim.Manager.Tests.Support;
using Fim.Testing;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Tests;

public sealed class RulesAndOptionsTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    [Fact]
    public async Task User_rule_files_raise_and_silence_before_the_defaults()
    {
        var dir = Directory.CreateTempSubdirectory("fim-rules-");
        try
        {
            var file = Path.Combine(dir.FullName, "rules.yaml");
            await File.WriteAllTextAsync(file, """
                rules:
                  - id: "100200"
                    level: 13
                    description: Credentials store changed
                    paths: [/etc/shadow]
                    compliance: ["pci_dss:8.2.1"]
                    tags: [credentials]
                  - id: "100201"
                    level: 0
                    paths: ["/var/cache/**"]
                  - id: "100202"
                    level: 11
                    description: Production binary changed
                    paths: ["/usr/bin/*"]
                    labels: {env: prod}
                """);
            await using var manager = await TestManager.StartAsync(nats.Server.Url, new Dictionary<string, string?> { ["Fim:Rules:Files:0"] = file });
            var prod = TestEvents.NewAgentId("prod");
            var dev = TestEvents.NewAgentId("dev");
            await nats.Client.PutHeartbeatAsync(prod, new Dictionary<string, string> { ["env"] = "prod" });
            await Eventually.TrueAsync(() => manager.Services.GetService(typeof(Agents.AgentDirectory)) is Agents.AgentDirectory d && d.TryGet(prod, out _),
                "heartbeat seen");
            var silencedBefore = manager.Metrics.Silenced.Value;

            await nats.Client.PublishEventAsync(TestEvents.Event(prod, "/etc/shadow", "modified"));
            await nats.Client.PublishEventAsync(TestEvents.Event(prod, "/var/cache/apt/pkgcache.bin", "modified"));
            await nats.Client.PublishEventAsync(TestEvents.Event(prod, "/usr/bin/ssh", "modified"));
            await nats.Client.PublishEventAsync(TestEvents.Event(dev, "/usr/bin/ssh", "modified"));

            var prodAlerts = await Eventually.CountAsync(() => nats.Client.AlertsAsync(prod), 2, "prod alerts");
            var shadow = Assert.Single(prodAlerts, a => a.Path == "/etc/shadow");
            Assert.Equal(("100200", 13), (shadow.Rule.Id, shadow.Level));
            Assert.Contains("pci_dss:8.2.1", shadow.Compliance);
            Assert.Contains("credentials", shadow.Tags);
            Assert.Equal("100202", Assert.Single(prodAlerts, a => a.Path == "/usr/bin/ssh").Rule.Id);
            // The dev agent lacks the label: the default rule answers.
            Assert.Equal("550", Assert.Single(await Eventually.CountAsync(() => nats.Client.AlertsAsync(dev), 1, "dev alert")).Rule.Id);
            await Eventually.TrueAsync(() => manager.Metrics.Silenced.Value >= silencedBefore + 1, "cache change silenced and acked");
            Assert.DoesNotContain(await nats.Client.AlertsAsync(prod), a => a.Path.StartsWith("/var/cache/", StringComparison.Ordinal));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_broken_rule_file_stops_the_start_with_file_and_line()
    {
        var file = Path.Combine(Path.GetTempPath(), $"fim-bad-rules-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, "rules:\n  - id: a\n    level: 99\n");
        try
        {
            var error = await StartFailsAsync(new Dictionary<string, string?> { ["Fim:Rules:Files:0"] = file });
            Assert.Contains($"Fim:Rules:Files: {file}:3:", error);
            Assert.Contains("rules[0].level: must be 0..15, got 99", error);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Invalid_options_stop_the_start_naming_every_key_and_never_the_password()
    {
        var error = await StartFailsAsync(new Dictionary<string, string?>
        {
            ["Fim:Nats:Url"] = "nats://admin:hunter2@127.0.0.1:4222",
            ["Fim:Nats:Password"] = "s3cret-pass",
            ["Fim:Pipeline:BatchSize"] = "0",
            ["Fim:Pipeline:MaxEventBytes"] = "10",
            ["Fim:Pipeline:AckWait"] = "00:05:00",
            ["Fim:Sinks:Webhook:Url"] = "ftp://hooks.example/secret-token",
            ["Fim:Sinks:Stdout:Format"] = "xml",
            ["Fim:Api:TlsCertFile"] = "/nonexistent/cert.pem",
        });

        Assert.Contains("Fim:Nats:Url: must not hold credentials", error);
        Assert.Contains("Fim:Nats:User: required with Fim:Nats:Password", error);
        Assert.Contains("Fim:Pipeline:BatchSize: must be 1..10000, got 0", error);
        Assert.Contains("Fim:Pipeline:MaxEventBytes: must be 256..", error);
        Assert.Contains("Fim:Pipeline:AckWait: must be shorter than DuplicateWindow", error);
        Assert.Contains("Fim:Sinks:Webhook:Url: must be an absolute http:// or https:// URL", error);
        Assert.Contains("Fim:Api:TlsKeyFile: TlsCertFile and TlsKeyFile go together", error);
        Assert.Contains("Fim:Sinks:Stdout:Format: must be ecs or native, got 'xml'", error);
        Assert.DoesNotContain("s3cret-pass", error);
        Assert.DoesNotContain("secret-token", error);
    }

    private async Task<string> StartFailsAsync(Dictionary<string, string?> settings)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = TestManager.Build(nats.Server.Url, NatsServer.FreePort(), NatsServer.FreePort(), new MemoryStream(), settings);
            await app.StartAsync();
        });
        var failures = ManagerApp.ConfigurationFailures(error);
        Assert.NotEmpty(failures);
        return string.Join("\n", failures);
    }
}

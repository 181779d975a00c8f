using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Tests.Support;
using Fim.Testing;

namespace Fim.Manager.Tests;

/// <summary>The syslog sink against a real rsyslogd with a TLS listener: RFC 5424, octet-counted, every alert once.</summary>
public sealed class SyslogSinkTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    [Fact]
    public async Task Rsyslogd_over_TLS_receives_every_alert_of_a_run_exactly_once_as_RFC_5424_with_the_ECS_JSON()
    {
        using var certs = TestCertificates.Create();
        using var rsyslog = await Rsyslogd.StartAsync(certs);
        await using var manager = await TestManager.StartAsync(nats.Server.Url, new Dictionary<string, string?>
        {
            ["Fim:Sinks:Syslog:Host"] = "127.0.0.1",
            ["Fim:Sinks:Syslog:Port"] = rsyslog.Port.ToString(),
            ["Fim:Sinks:Syslog:CaFile"] = certs.CaCert,
            ["Fim:Sinks:Syslog:Consumer"] = "syslog-once",
        });
        var agent = TestEvents.NewAgentId("syslog");
        var events = Enumerable.Range(0, 40).Select(i => TestEvents.Event(agent, $"/etc/syslog-{i}", i % 2 == 0 ? "modified" : "added")).ToList();
        // One alert with text that would break a naive framing: a newline and a quote in the path.
        events.Add(TestEvents.Event(agent, "/etc/line\nbreak \"quoted\""));
        foreach (var e in events)
        {
            await nats.Client.PublishEventAsync(e);
        }
        await Eventually.TrueAsync(() => rsyslog.Lines().Count(l => l.Contains(agent, StringComparison.Ordinal)) >= events.Count,
            () => $"{events.Count} messages at rsyslogd, got {rsyslog.Lines().Count}\n{rsyslog.Output}");
        // Then nothing more arrives: the sink's consumer has no alert of this run left unacked.
        await Eventually.TrueAsync(async () => (await nats.Client.Js.GetConsumerAsync(Subjects.AlertsStream, "syslog-once")).Info.NumAckPending == 0
            && (await nats.Client.Js.GetConsumerAsync(Subjects.AlertsStream, "syslog-once")).Info.NumPending == 0, "the syslog consumer drained");

        var mine = rsyslog.Lines().Where(l => l.Contains(agent, StringComparison.Ordinal)).ToList();
        Assert.Equal(events.Count, mine.Count);
        var ids = new List<string>();
        foreach (var line in mine)
        {
            var parts = line.Split(' ', 5);
            var ecs = JsonDocument.Parse(parts[4]).RootElement;
            var level = ecs.GetProperty("event").GetProperty("severity").GetInt32();
            Assert.Equal((13 * 8 + Fim.Manager.Sinks.SyslogMessage.Severity(level)).ToString(), parts[0]);
            Assert.Equal(agent + ".node", parts[1]);
            Assert.Equal("fim", parts[2]);
            Assert.Equal("fim-alert", parts[3]);
            ids.Add(ecs.GetProperty("event").GetProperty("id").GetString()!);
        }
        Assert.Equal(events.Select(e => e.EventId).Order(), ids.Select(id => id[..id.IndexOf('/')]).Order());
        // The newline stayed inside its JSON string: the message is whole, and one line at the receiver.
        Assert.Contains(mine, l => JsonDocument.Parse(l.Split(' ', 5)[4]).RootElement.GetProperty("file").GetProperty("path").GetString() == "/etc/line\nbreak \"quoted\"");
    }

    [Fact]
    public async Task A_receiver_whose_certificate_the_CA_did_not_sign_gets_nothing_and_the_alert_is_retried()
    {
        using var certs = TestCertificates.Create();
        using var other = TestCertificates.Create();
        using var rsyslog = await Rsyslogd.StartAsync(certs);
        await using var manager = await TestManager.StartAsync(nats.Server.Url, new Dictionary<string, string?>
        {
            ["Fim:Sinks:Syslog:Host"] = "127.0.0.1",
            ["Fim:Sinks:Syslog:Port"] = rsyslog.Port.ToString(),
            ["Fim:Sinks:Syslog:CaFile"] = other.CaCert,
            ["Fim:Sinks:Syslog:Consumer"] = "syslog-untrusted",
            ["Fim:Sinks:Syslog:RetryDelay"] = "00:00:00.100",
        });
        var agent = TestEvents.NewAgentId("syslog-bad");
        await nats.Client.PublishEventAsync(TestEvents.Event(agent, "/etc/passwd"));
        await Eventually.TrueAsync(() => manager.Metrics.SinkDeliveries.WithLabels("syslog", "retry").Value >= 2, "retries of the untrusted receiver");
        Assert.DoesNotContain(rsyslog.Lines(), l => l.Contains(agent, StringComparison.Ordinal));
    }
}

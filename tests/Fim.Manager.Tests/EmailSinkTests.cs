using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Fim.Manager.Tests.Support;
using Fim.Testing;
using MimeKit;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Fim.Manager.Tests;

/// <summary>
/// The email sink against a real SMTP server on 127.0.0.1 (the SmtpServer package, with STARTTLS on the test CA's
/// certificate): an alert storm arrives as digests within the rate cap, every alert listed once, over TLS only.
/// </summary>
public sealed class EmailSinkTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    private sealed record Received(DateTimeOffset At, bool OverTls, MimeMessage Message);

    private sealed class Inbox : MessageStore
    {
        public ConcurrentQueue<Received> Mails { get; } = new();

        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            Mails.Enqueue(new Received(DateTimeOffset.UtcNow, context.Pipe.IsSecure, await MimeMessage.LoadAsync(stream, cancellationToken)));
            return SmtpResponse.Ok;
        }
    }

    private static (SmtpServer.SmtpServer Server, Inbox Inbox, int Port) StartSmtp(TestCertificates? certs)
    {
        var port = NatsServer.FreePort();
        var inbox = new Inbox();
        var endpoint = new EndpointDefinitionBuilder().Endpoint(new IPEndPoint(IPAddress.Loopback, port));
        if (certs is not null)
        {
            endpoint.Certificate(X509Certificate2.CreateFromPemFile(certs.ServerCert, certs.ServerKey));
        }
        var options = new SmtpServerOptionsBuilder().ServerName("smtp.test").Endpoint(endpoint.Build()).Build();
        var services = new ServiceProvider();
        services.Add(inbox);
        return (new SmtpServer.SmtpServer(options, services), inbox, port);
    }

    private static Dictionary<string, string?> Settings(int port, TestCertificates certs, string consumer) => new()
    {
        ["Fim:Sinks:Email:Host"] = "127.0.0.1",
        ["Fim:Sinks:Email:Port"] = port.ToString(),
        ["Fim:Sinks:Email:CaFile"] = certs.CaCert,
        ["Fim:Sinks:Email:From"] = "fim@example.org",
        ["Fim:Sinks:Email:To:0"] = "soc@example.org",
        ["Fim:Sinks:Email:MinLevel"] = "1",
        ["Fim:Sinks:Email:Interval"] = "00:00:03",
        ["Fim:Sinks:Email:GatherDelay"] = "00:00:01",
        ["Fim:Sinks:Email:RetryDelay"] = "00:00:01",
        ["Fim:Sinks:Email:Consumer"] = consumer,
    };

    [Fact]
    public async Task An_alert_storm_arrives_as_digests_over_STARTTLS_no_closer_than_the_interval_each_alert_once()
    {
        using var certs = TestCertificates.Create();
        var (smtp, inbox, port) = StartSmtp(certs);
        using var stop = new CancellationTokenSource();
        var serving = smtp.StartAsync(stop.Token);
        await using var manager = await TestManager.StartAsync(nats.Server.Url, Settings(port, certs, "email-storm"));
        var agent = TestEvents.NewAgentId("mail");
        var events = Enumerable.Range(0, 300).Select(i => TestEvents.Event(agent, $"/etc/storm-{i}")).ToList();
        foreach (var e in events.Take(150))
        {
            await nats.Client.PublishEventAsync(e);
        }
        await Eventually.TrueAsync(() => !inbox.Mails.IsEmpty, "the first digest");
        foreach (var e in events.Skip(150))
        {
            await nats.Client.PublishEventAsync(e);
        }
        string Body(Received r) => (r.Message.Body as TextPart)?.Text ?? "";
        await Eventually.TrueAsync(() => events.All(e => inbox.Mails.Any(m => Body(m).Contains(e.EventId + "/", StringComparison.Ordinal))),
            () => $"every alert in a digest; {inbox.Mails.Count} mails", TimeSpan.FromSeconds(60));

        var mails = inbox.Mails.ToList();
        Assert.InRange(mails.Count, 2, 10);
        Assert.All(mails, m => Assert.True(m.OverTls, "a digest sent without STARTTLS"));
        // The rate cap: no two digests closer than the interval (the server's clock, less a scheduling margin).
        foreach (var (a, b) in mails.Zip(mails.Skip(1)))
        {
            Assert.True(b.At - a.At >= TimeSpan.FromSeconds(2.5), $"digests {a.At:O} and {b.At:O} closer than the 3 s interval");
        }
        var listed = mails.SelectMany(m => Body(m).Split('\n', StringSplitOptions.RemoveEmptyEntries)).Where(l => l.Contains(agent, StringComparison.Ordinal)).ToList();
        Assert.Equal(events.Count, listed.Count);
        Assert.Equal(events.Count, listed.Select(l => l[(l.LastIndexOf('(') + 1)..^1]).Distinct().Count());
        Assert.Matches(@"^FIM: \d+ alerts, highest level 7, on 1 host$", mails[0].Message.Subject);
        await stop.CancelAsync();
    }

    [Fact]
    public async Task A_server_without_STARTTLS_gets_no_mail_and_the_alerts_wait()
    {
        using var certs = TestCertificates.Create();
        var (smtp, inbox, port) = StartSmtp(certs: null);
        using var stop = new CancellationTokenSource();
        var serving = smtp.StartAsync(stop.Token);
        await using var manager = await TestManager.StartAsync(nats.Server.Url, Settings(port, certs, "email-plain"));
        await nats.Client.PublishEventAsync(TestEvents.Event(TestEvents.NewAgentId("mail-plain"), "/etc/passwd"));
        await Eventually.TrueAsync(() => manager.Metrics.SinkDeliveries.WithLabels("email", "retry").Value >= 2, "retries against the plaintext server");
        Assert.Empty(inbox.Mails);
        await stop.CancelAsync();
    }
}

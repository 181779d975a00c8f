using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Threading.Channels;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Manager.Resilience;
using Fim.Manager.Telemetry;
using Fim.Nats;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fim.Manager.Sinks;

/// <summary>
/// Mails alerts as digests from its own durable consumer on FIM_ALERTS: alerts are gathered (held unacked) and sent
/// as one mail at most once per <see cref="EmailSinkOptions.Interval"/>, so an alert storm is one mail a minute, not
/// thousands; the alerts are acked once the server accepted the mail, and nak'ed for a later digest when it did not.
/// SMTP through MailKit, STARTTLS required (a server that does not offer it gets nothing).
/// </summary>
public sealed class EmailDigestWorker(IOptions<SinkOptions> options, NatsConnector nats, StreamTopology topology, ManagerMetrics metrics, ManagerRetries retries,
    TimeProvider time, ILogger<EmailDigestWorker> log) : BackgroundService
{
    public const string SinkName = "email";

    private readonly EmailSinkOptions _options = options.Value.Email;
    private DateTimeOffset _lastSent = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }
        await retries.Sink(SinkName).KeepRunningAsync(async token =>
        {
            var js = await nats.JetStreamAsync(token);
            var consumer = await topology.DurableAsync(js, Subjects.AlertsStream, new ConsumerConfig(_options.Consumer)
            {
                DurableName = _options.Consumer,
                Description = "Alert sink email (digests)",
                AckPolicy = ConsumerConfigAckPolicy.Explicit,
                // Alerts wait in a digest up to an interval, then for the mail to go.
                AckWait = _options.Interval + _options.Timeout * 2 + TimeSpan.FromSeconds(30),
                MaxAckPending = _options.MaxAlertsPerDigest * 2,
                FilterSubject = Subjects.AllAlerts,
                DeliverPolicy = ConsumerConfigDeliverPolicy.New,
            }, token);
            await RunAsync(consumer, token);
        }, stoppingToken);
    }

    private async Task RunAsync(INatsJSConsumer consumer, CancellationToken ct)
    {
        var queue = Channel.CreateBounded<(INatsJSMsg<byte[]> Msg, Alert Alert)>(_options.MaxAlertsPerDigest);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reading = ReadAsync(consumer, queue.Writer, stop.Token);
        try
        {
            var batch = new List<(INatsJSMsg<byte[]> Msg, Alert Alert)>();
            while (!ct.IsCancellationRequested)
            {
                batch.Add(await queue.Reader.ReadAsync(ct));
                var dueAt = Max(time.GetUtcNow() + _options.GatherDelay, _lastSent + _options.Interval);
                // Gather until the digest is due (the rate cap) or full; a full one still waits for its time.
                while (batch.Count < _options.MaxAlertsPerDigest && time.GetUtcNow() < dueAt)
                {
                    using var until = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    until.CancelAfter(dueAt - time.GetUtcNow());
                    try
                    {
                        batch.Add(await queue.Reader.ReadAsync(until.Token));
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        break;
                    }
                }
                if (dueAt > time.GetUtcNow())
                {
                    await Task.Delay(dueAt - time.GetUtcNow(), time, ct);
                }
                await SendAsync(batch, ct);
                batch.Clear();
            }
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await reading;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>Alerts for the digest into <paramref name="queue"/>; those below the level or stored-only acked at once.</summary>
    private async Task ReadAsync(INatsJSConsumer consumer, ChannelWriter<(INatsJSMsg<byte[]>, Alert)> queue, CancellationToken ct)
    {
        try
        {
            await foreach (var msg in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, new NatsJSConsumeOpts { MaxMsgs = _options.MaxAlertsPerDigest }, ct))
            {
                if (Read(msg) is not { } alert || alert.Level < _options.MinLevel || alert.Tags.Contains(Alert.StoredOnlyTag, StringComparer.Ordinal))
                {
                    await msg.AckAsync(cancellationToken: ct);
                    metrics.SinkDeliveries.WithLabels(SinkName, "skipped").Inc();
                    continue;
                }
                await queue.WriteAsync((msg, alert), ct);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The digest loop then fails too and the worker starts over; alerts it held come back after the ack wait.
            queue.TryComplete(e);
            throw;
        }
    }

    private async Task SendAsync(List<(INatsJSMsg<byte[]> Msg, Alert Alert)> batch, CancellationToken ct)
    {
        var mail = EmailDigest.Compose([.. batch.Select(b => b.Alert)], _options.From, _options.To);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_options.Timeout);
            using var smtp = new SmtpClient { Timeout = (int)_options.Timeout.TotalMilliseconds };
            if (_options.CaFile is { } caFile)
            {
                smtp.ServerCertificateValidationCallback = (_, certificate, _, errors) => ChainsTo(certificate, caFile, errors);
            }
            await smtp.ConnectAsync(_options.Host!, _options.Port, SecureSocketOptions.StartTls, timeout.Token);
            if (_options.User is { } user)
            {
                var password = (await File.ReadAllTextAsync(_options.PasswordFile!, timeout.Token)).TrimEnd('\r', '\n');
                await smtp.AuthenticateAsync(user, password, timeout.Token);
            }
            await smtp.SendAsync(mail, timeout.Token);
            await smtp.DisconnectAsync(quit: true, timeout.Token);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or MailKit.ProtocolException or MailKit.CommandException
            or AuthenticationException or SslHandshakeException or System.Security.Authentication.AuthenticationException or NotSupportedException
            or OperationCanceledException && !ct.IsCancellationRequested)
        {
            // The message names the server's answer or the transport's failure, never the password.
            log.LogWarning("Email sink: digest of {Count} alerts not sent through {Host}:{Port} ({Error}); retrying in {Delay}", batch.Count, _options.Host, _options.Port,
                e.Message, _options.RetryDelay);
            foreach (var (msg, _) in batch)
            {
                await msg.NakAsync(new AckOpts { NakDelay = _options.RetryDelay }, ct);
            }
            metrics.SinkDeliveries.WithLabels(SinkName, "retry").Inc(batch.Count);
            // A failed attempt counts against the cap too: a broken server is not hammered.
            _lastSent = time.GetUtcNow();
            return;
        }
        _lastSent = time.GetUtcNow();
        foreach (var (msg, _) in batch)
        {
            await msg.AckAsync(cancellationToken: ct);
        }
        metrics.SinkDeliveries.WithLabels(SinkName, "delivered").Inc(batch.Count);
        log.LogInformation("Email sink: digest of {Count} alerts sent", batch.Count);
    }

    private static Alert? Read(INatsJSMsg<byte[]> msg)
    {
        try
        {
            return JsonSerializer.Deserialize(msg.Data ?? [], ContractJson.Default.Alert);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The server's certificate chains to the configured CA and names the host (no other error).</summary>
    private static bool ChainsTo(X509Certificate? certificate, string caFile, System.Net.Security.SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.ImportFromPemFile(caFile);
        using var cert = new X509Certificate2(certificate);
        return chain.Build(cert);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}

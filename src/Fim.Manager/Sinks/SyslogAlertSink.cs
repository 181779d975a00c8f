using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Fim.Contracts;
using Fim.Manager.Options;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Sinks;

/// <summary>
/// Sends alerts to a syslog receiver (rsyslog imtcp, syslog-ng, a SIEM) over TCP with TLS 1.2 or 1.3, one RFC 5424
/// message per alert, octet-counted (<see cref="SyslogMessage"/>). The receiver's certificate must chain to
/// <see cref="SyslogSinkOptions.CaFile"/> (or the system's trust) and name <see cref="SyslogSinkOptions.Host"/>. One
/// connection, kept open; an alert is acked once its message was written and flushed, and a failed write closes the
/// connection and is retried through the consumer (nak with backoff). Syslog over TCP has no receipt, so a connection
/// that breaks right after a write may lose or (on retry) repeat that one message; every message carries the alert id
/// as ECS event.id for receivers that de-duplicate.
/// </summary>
public sealed class SyslogAlertSink(IOptions<SinkOptions> options, ILogger<SyslogAlertSink> log) : IAlertSink, IAsyncDisposable
{
    private readonly SyslogSinkOptions _options = options.Value.Syslog;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private TcpClient? _tcp;
    private SslStream? _tls;

    public string Name => "syslog";
    public bool Enabled => _options.Enabled;
    public string Consumer => _options.Consumer;
    public TimeSpan AckWait => _options.AckWait;
    public int MaxDeliver => _options.MaxDeliver;

    public TimeSpan RetryDelay(ulong delivered) => _options.Backoff(delivered);

    public async Task<SinkResult> DeliverAsync(Alert alert, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        if (alert.Level < _options.MinLevel)
        {
            return SinkResult.Skipped;
        }
        var frame = SyslogMessage.Frame(alert, _options.Facility, _options.AppName);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.Timeout);
            var stream = _tls ?? await ConnectAsync(timeout.Token);
            await stream.WriteAsync(frame, timeout.Token);
            await stream.FlushAsync(timeout.Token);
            return SinkResult.Delivered;
        }
        catch (Exception e) when (e is IOException or SocketException or AuthenticationException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning("Syslog sink: alert {AlertId} not sent to {Host}:{Port} ({Error}); will retry", alert.AlertId, _options.Host, _options.Port, e.Message);
            Close();
            return SinkResult.Retry;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<SslStream> ConnectAsync(CancellationToken cancellationToken)
    {
        Close();
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(_options.Host!, _options.Port, cancellationToken);
            var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = _options.Host,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificates = ClientCertificate() is { } cert ? [cert] : null,
                CertificateChainPolicy = TrustPolicy(),
            }, cancellationToken);
            (_tcp, _tls) = (tcp, tls);
            log.LogInformation("Syslog sink: connected to {Host}:{Port} ({Protocol})", _options.Host, _options.Port, tls.SslProtocol);
            return tls;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>The configured CA as the only root (custom trust), or null for the system's store.</summary>
    private X509ChainPolicy? TrustPolicy()
    {
        if (_options.CaFile is null)
        {
            return null;
        }
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.ImportFromPemFile(_options.CaFile);
        return policy;
    }

    private X509Certificate2? ClientCertificate() =>
        _options.ClientCertFile is null ? null : X509Certificate2.CreateFromPemFile(_options.ClientCertFile, _options.ClientKeyFile);

    private void Close()
    {
        _tls?.Dispose();
        _tcp?.Dispose();
        (_tls, _tcp) = (null, null);
    }

    public ValueTask DisposeAsync()
    {
        Close();
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }
}

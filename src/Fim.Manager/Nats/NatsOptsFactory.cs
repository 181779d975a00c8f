using Fim.Manager.Options;
using NATS.Client.Core;

namespace Fim.Manager.Nats;

/// <summary>Client options from <see cref="NatsOptions"/>: TLS files, user/password, timeouts, unlimited reconnects.</summary>
public static class NatsOptsFactory
{
    public static NatsOpts Create(NatsOptions o) => NatsOpts.Default with
    {
        Url = o.Url,
        Name = o.ClientName,
        AuthOpts = o.User is null
            ? NatsAuthOpts.Default
            : NatsAuthOpts.Default with { Username = o.User, Password = o.Password },
        TlsOpts = o.HasTls
            ? NatsTlsOpts.Default with { CaFile = o.TlsCaFile, CertFile = o.TlsCertFile, KeyFile = o.TlsKeyFile, Mode = TlsMode.Require }
            : NatsTlsOpts.Default,
        RequestTimeout = o.RequestTimeout,
        CommandTimeout = o.RequestTimeout,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        MaxReconnectRetry = -1,
        ReconnectWaitMin = o.MinRetryDelay,
        ReconnectWaitMax = o.MaxRetryDelay,
        // Managers read a lot; keep the socket buffers large enough for a full pull batch.
        SubPendingChannelCapacity = 4096,
        WriterBufferSize = 1024 * 1024,
        ReaderBufferSize = 1024 * 1024,
    };
}

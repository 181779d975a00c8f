using Fim.Manager.Options;
using NATS.Client.Core;

namespace Fim.Manager.Nats;

/// <summary>Client options from <see cref="NatsOptions"/>: TLS files, user/password or NKey or creds file, timeouts, unlimited reconnects.</summary>
public static class NatsOptsFactory
{
    public static NatsOpts Create(NatsOptions o) => NatsOpts.Default with
    {
        Url = o.Url,
        Name = o.ClientName,
        AuthOpts = Auth(o),
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

    private static NatsAuthOpts Auth(NatsOptions o)
    {
        var auth = NatsAuthOpts.Default with { Username = o.User, Password = o.Password, CredsFile = o.CredsFile };
        if (o.NKeyFile is null)
        {
            return auth;
        }
        // The client wants the public key next to the seed; a seed file (as nk writes it) holds only the seed.
        var key = NATS.NKeys.KeyPair.FromSeedFile(o.NKeyFile);
        return auth with { NKey = key.GetPublicKey(), Seed = key.GetSeed() };
    }
}

using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Fim.Agent.Connected;

/// <summary>
/// The agent's one NATS connection: its URLs, TLS (CA + client certificate), user/password or token read from the
/// options or secret files, per-agent inbox prefix, and reconnecting forever (an agent outlives any NATS outage).
/// </summary>
public static class NatsConnectionFactory
{
    public static NatsOpts CreateOptions(NatsConnectionOptions o, AgentIdentity identity, ILoggerFactory loggers)
    {
        var auth = NatsAuthOpts.Default;
        if (!string.IsNullOrEmpty(o.User))
        {
            auth = auth with { Username = o.User, Password = o.Password ?? ReadSecret(o.PasswordFile!) };
        }
        else if (!string.IsNullOrEmpty(o.Token) || !string.IsNullOrEmpty(o.TokenFile))
        {
            auth = auth with { Token = o.Token ?? ReadSecret(o.TokenFile!) };
        }
        else if (!string.IsNullOrEmpty(o.NKeyFile))
        {
            var key = NATS.NKeys.KeyPair.FromSeedFile(o.NKeyFile);
            auth = auth with { NKey = key.GetPublicKey(), Seed = key.GetSeed() };
        }
        else if (!string.IsNullOrEmpty(o.CredsFile))
        {
            auth = auth with { CredsFile = o.CredsFile };
        }
        var tls = NatsTlsOpts.Default;
        if (o.Tls.Enabled)
        {
            tls = tls with
            {
                Mode = TlsMode.Require,
                CaFile = o.Tls.CaFile,
                CertFile = o.Tls.CertFile,
                KeyFile = o.Tls.KeyFile,
            };
        }
        return NatsOpts.Default with
        {
            Url = o.Url!,
            Name = $"fim-agent {identity.AgentId}",
            AuthOpts = auth,
            TlsOpts = tls,
            InboxPrefix = identity.InboxPrefix,
            LoggerFactory = loggers,
            RetryOnInitialConnect = true,
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(250),
            ReconnectWaitMax = TimeSpan.FromSeconds(5),
            ReconnectJitter = TimeSpan.FromMilliseconds(250),
            RequestTimeout = TimeSpan.FromSeconds(5),
            SubPendingChannelFullMode = System.Threading.Channels.BoundedChannelFullMode.Wait,
        };
    }

    /// <summary>A secret from a mounted file, without the trailing newline editors and `echo` add.</summary>
    private static string ReadSecret(string path) => File.ReadAllText(path).TrimEnd('\r', '\n');

    /// <summary>"user/password", "token", "TLS client certificate" or "none": for logs, never the secret itself.</summary>
    public static string DescribeAuth(NatsConnectionOptions o) =>
        !string.IsNullOrEmpty(o.User) ? $"user {o.User} with password"
        : !string.IsNullOrEmpty(o.Token) || !string.IsNullOrEmpty(o.TokenFile) ? "token"
        : o.Tls.CertFile is not null ? "TLS client certificate"
        : "none";
}

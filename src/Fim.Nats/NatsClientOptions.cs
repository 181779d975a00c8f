namespace Fim.Nats;

/// <summary>
/// How one FIM process reaches NATS: the same shape for agent, manager, operator and fim-js-backup, each of which maps
/// its own configuration keys onto it. At most one login method (user/password, token, NKey seed file, creds file);
/// a TLS client certificate may come with any of them. Secrets are never part of <see cref="ToString"/>.
/// </summary>
public sealed record NatsClientOptions
{
    /// <summary>One server URL or several separated by commas (nats://, tls://, ws://, wss://).</summary>
    public string Url { get; init; } = "nats://127.0.0.1:4222";

    /// <summary>Shown in the server's connection list.</summary>
    public string Name { get; init; } = "fim";

    /// <summary>CA bundle that verifies the server; setting any TLS file turns TLS on.</summary>
    public string? TlsCaFile { get; init; }

    public string? TlsCertFile { get; init; }

    public string? TlsKeyFile { get; init; }

    public string? User { get; init; }

    public string? Password { get; init; }

    /// <summary>A file holding the password (a mounted secret), instead of <see cref="Password"/>.</summary>
    public string? PasswordFile { get; init; }

    public string? Token { get; init; }

    /// <summary>A file holding the token, instead of <see cref="Token"/>.</summary>
    public string? TokenFile { get; init; }

    /// <summary>A file holding an NKey seed (SU...), as <c>nk -gen user</c> writes it.</summary>
    public string? NKeySeedFile { get; init; }

    /// <summary>A creds file (user JWT plus NKey seed) for servers in operator/JWT mode.</summary>
    public string? CredsFile { get; init; }

    /// <summary>Inbox subject prefix; null for the client's default.</summary>
    public string? InboxPrefix { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a request (JetStream API call, publish ack) waits for its answer.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>First wait between failed (re)connect attempts; the client backs off up to <see cref="ReconnectWaitMax"/>.</summary>
    public TimeSpan ReconnectWaitMin { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan ReconnectWaitMax { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// False: keep retrying a login the server refuses (a long-running service waits, unready, for the credentials to be
    /// fixed). True: the client's own rule, stop after the same refusal twice in a row and fail the connect.
    /// </summary>
    public bool StopOnRefusedLogin { get; init; } = true;

    public bool HasTls => !string.IsNullOrEmpty(TlsCaFile) || !string.IsNullOrEmpty(TlsCertFile);

    /// <summary>The login methods that are set, in a fixed order; more than one is a configuration error.</summary>
    public IReadOnlyList<NatsLogin> Logins
    {
        get
        {
            var logins = new List<NatsLogin>(1);
            if (!string.IsNullOrEmpty(User))
            {
                logins.Add(NatsLogin.UserPassword);
            }
            if (!string.IsNullOrEmpty(Token) || !string.IsNullOrEmpty(TokenFile))
            {
                logins.Add(NatsLogin.Token);
            }
            if (!string.IsNullOrEmpty(NKeySeedFile))
            {
                logins.Add(NatsLogin.NKey);
            }
            if (!string.IsNullOrEmpty(CredsFile))
            {
                logins.Add(NatsLogin.Creds);
            }
            return logins;
        }
    }

    /// <summary>The login for logs: "user fim with password", "NKey seed file /x", never a secret.</summary>
    public string DescribeLogin() => Logins.FirstOrDefault() switch
    {
        NatsLogin.UserPassword => $"user {User} with password",
        NatsLogin.Token => "token",
        NatsLogin.NKey => $"NKey seed file {NKeySeedFile}",
        NatsLogin.Creds => $"creds file {CredsFile}",
        _ => !string.IsNullOrEmpty(TlsCertFile) ? "TLS client certificate" : "none",
    };

    public override string ToString() => $"Url={SecretMasking.MaskUrl(Url)} Name={Name} Login={DescribeLogin()} Tls={HasTls}";
}

public enum NatsLogin
{
    None,
    UserPassword,
    Token,
    NKey,
    Creds,
}

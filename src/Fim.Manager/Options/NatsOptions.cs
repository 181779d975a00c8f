using Fim.Nats;

namespace Fim.Manager.Options;

/// <summary>How to reach NATS (section Fim:Nats). Credentials stay out of the URL and out of every log.</summary>
public sealed class NatsOptions
{
    public const string Section = "Fim:Nats";

    /// <summary>The keys as a user sets them, for validation messages.</summary>
    public static readonly NatsOptionNames Names = new(
        Url: "Fim:Nats:Url", TlsCaFile: "Fim:Nats:TlsCaFile", TlsCertFile: "Fim:Nats:TlsCertFile", TlsKeyFile: "Fim:Nats:TlsKeyFile",
        User: "Fim:Nats:User", Password: "Fim:Nats:Password", PasswordFile: "Fim:Nats:PasswordFile", Token: "Fim:Nats:Token",
        TokenFile: "Fim:Nats:TokenFile", NKeySeedFile: "Fim:Nats:NKeyFile", CredsFile: "Fim:Nats:CredsFile");

    /// <summary>One URL or several separated by commas (the client picks one and fails over).</summary>
    public string Url { get; set; } = "nats://127.0.0.1:4222";
    public string? TlsCaFile { get; set; }
    public string? TlsCertFile { get; set; }
    public string? TlsKeyFile { get; set; }
    public string? User { get; set; }
    public string? Password { get; set; }
    /// <summary>File holding the password (a mounted secret), instead of Password.</summary>
    public string? PasswordFile { get; set; }
    public string? Token { get; set; }
    public string? TokenFile { get; set; }
    /// <summary>File holding an NKey seed (SU...), instead of user/password.</summary>
    public string? NKeyFile { get; set; }
    /// <summary>A creds file (user JWT plus NKey seed) for servers in operator/JWT mode.</summary>
    public string? CredsFile { get; set; }
    /// <summary>Shown in the server's connection list.</summary>
    public string ClientName { get; set; } = "fim-manager";
    /// <summary>First wait between failed connection attempts; the client backs off up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan MinRetryDelay { get; set; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>How long a JetStream API call or publish waits for its answer.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The shared connection shape. A manager keeps retrying a refused login: it stays unready (and says why in its
    /// log) until the credentials are fixed, instead of exiting.
    /// </summary>
    public NatsClientOptions ToClientOptions() => new()
    {
        Url = Url,
        Name = ClientName,
        TlsCaFile = TlsCaFile,
        TlsCertFile = TlsCertFile,
        TlsKeyFile = TlsKeyFile,
        User = User,
        Password = Password,
        PasswordFile = PasswordFile,
        Token = Token,
        TokenFile = TokenFile,
        NKeySeedFile = NKeyFile,
        CredsFile = CredsFile,
        RequestTimeout = RequestTimeout,
        ReconnectWaitMin = MinRetryDelay,
        ReconnectWaitMax = MaxRetryDelay,
        StopOnRefusedLogin = false,
    };

    /// <summary>Never prints a secret.</summary>
    public override string ToString() => ToClientOptions().ToString();
}

namespace Fim.Manager.Options;

/// <summary>How to reach NATS (section Fim:Nats). Credentials stay out of the URL and out of every log.</summary>
public sealed class NatsOptions
{
    public const string Section = "Fim:Nats";

    /// <summary>One URL or several separated by commas (the client picks one and fails over).</summary>
    public string Url { get; set; } = "nats://127.0.0.1:4222";
    public string? TlsCaFile { get; set; }
    public string? TlsCertFile { get; set; }
    public string? TlsKeyFile { get; set; }
    public string? User { get; set; }
    public string? Password { get; set; }
    /// <summary>File holding an NKey seed (SU...), instead of user/password.</summary>
    public string? NKeyFile { get; set; }
    /// <summary>A creds file (user JWT plus NKey seed) for servers in operator/JWT mode.</summary>
    public string? CredsFile { get; set; }
    /// <summary>Shown in the server's connection list.</summary>
    public string ClientName { get; set; } = "fim-manager";
    /// <summary>First wait between failed connection attempts; doubles up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan MinRetryDelay { get; set; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>How long a JetStream API call or publish waits for its answer.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public bool HasTls => TlsCaFile is not null || TlsCertFile is not null;

    /// <summary>Never prints the password.</summary>
    public override string ToString() =>
        $"Url={Url} User={(User is null ? "-" : User)} Password={(Password is null ? "-" : "***")} NKeyFile={NKeyFile ?? "-"} CredsFile={CredsFile ?? "-"} Tls={HasTls}";
}

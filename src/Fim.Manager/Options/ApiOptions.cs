namespace Fim.Manager.Options;

/// <summary>
/// Where the API listens (section Fim:Api). Without TLS, REST and /metrics are on <see cref="HttpPort"/> (HTTP/1.1)
/// and gRPC on <see cref="GrpcPort"/> (HTTP/2 cleartext, "h2c"), because one cleartext port cannot offer both: HTTP/2
/// is negotiated by TLS ALPN. With TLS both ports offer HTTP/1.1 and HTTP/2, so either carries everything.
/// </summary>
public sealed class ApiOptions
{
    public const string Section = "Fim:Api";

    public string Address { get; set; } = "0.0.0.0";
    public int HttpPort { get; set; } = 8080;
    public int GrpcPort { get; set; } = 8081;
    /// <summary>PEM certificate (chain) and key of the API; both or neither.</summary>
    public string? TlsCertFile { get; set; }
    public string? TlsKeyFile { get; set; }
    /// <summary>How long a scan request waits for the agent's answer.</summary>
    public TimeSpan ScanTimeout { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>Most stream messages one alerts/history query reads before it answers "truncated".</summary>
    public int MaxScan { get; set; } = 200_000;

    public bool HasTls => TlsCertFile is not null;
}

namespace Fim.Manager.Options;

/// <summary>
/// Where the API listens (section Fim:Api). Without TLS, REST and /metrics are on <see cref="HttpPort"/> (HTTP/1.1)
/// and gRPC on <see cref="GrpcPort"/> (HTTP/2 cleartext, "h2c"), because one cleartext port cannot offer both: HTTP/2
/// is negotiated by TLS ALPN. With TLS both ports offer HTTP/1.1 and HTTP/2, so either carries everything.
/// </summary>
public sealed class ApiOptions
{
    public const string Section = "Fim:Api";

    /// <summary>The address the API binds. Loopback unless set: the chart sets the pod's own IP, never every interface.</summary>
    public string Address { get; set; } = "127.0.0.1";
    public int HttpPort { get; set; } = 8080;
    public int GrpcPort { get; set; } = 8081;
    /// <summary>
    /// When set, /healthz, /readyz and /metrics are served on this port only (plaintext HTTP/1.1, unauthenticated) and the
    /// API ports answer 404 for them; the chart keeps this port out of the load balancer. 0: they share the API ports.
    /// </summary>
    public int HealthPort { get; set; }
    /// <summary>The address of <see cref="HealthPort"/>; default the API's.</summary>
    public string? HealthAddress { get; set; }
    /// <summary>Largest request body (REST) or message (gRPC) accepted.</summary>
    public int MaxRequestBytes { get; set; } = 64 * 1024;
    /// <summary>Requests one caller (token subject, or client address when anonymous) may make per minute.</summary>
    public int RequestsPerCallerPerMinute { get; set; } = 600;
    /// <summary>Requests one caller may make per minute to the ingest endpoint (a Falco posts one per event), instead of <see cref="RequestsPerCallerPerMinute"/>.</summary>
    public int IngestRequestsPerCallerPerMinute { get; set; } = 60_000;
    /// <summary>Scan requests one caller may make per minute (on top of the per-agent coalescing).</summary>
    public int ScansPerCallerPerMinute { get; set; } = 30;
    /// <summary>Scan requests to one agent within this time of the last scan it started join that scan.</summary>
    public TimeSpan ScanInterval { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>PEM certificate (chain) and key of the API; both or neither.</summary>
    public string? TlsCertFile { get; set; }
    public string? TlsKeyFile { get; set; }
    /// <summary>How long a scan request waits for the agent's answer.</summary>
    public TimeSpan ScanTimeout { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>Most stream messages one alerts/history query reads before it answers "truncated".</summary>
    public int MaxScan { get; set; } = 200_000;

    public bool HasTls => TlsCertFile is not null;
}

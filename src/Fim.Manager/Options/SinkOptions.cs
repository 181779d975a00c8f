namespace Fim.Manager.Options;

/// <summary>Alert sinks (section Fim:Sinks). Each reads FIM_ALERTS on its own durable consumer.</summary>
public sealed class SinkOptions
{
    public const string Section = "Fim:Sinks";

    public StdoutSinkOptions Stdout { get; set; } = new();
    public WebhookSinkOptions Webhook { get; set; } = new();
    public SyslogSinkOptions Syslog { get; set; } = new();
    public EmailSinkOptions Email { get; set; } = new();
}

/// <summary>Digests of alerts by SMTP with STARTTLS, at most one mail per <see cref="Interval"/>.</summary>
public sealed class EmailSinkOptions
{
    /// <summary>The SMTP server (submission port); empty disables the sink.</summary>
    public string? Host { get; set; }
    public int Port { get; set; } = 587;
    public string From { get; set; } = "";
    public List<string> To { get; set; } = [];
    /// <summary>SMTP login, if the server wants one; its password is read from <see cref="PasswordFile"/>, never from settings.</summary>
    public string? User { get; set; }
    public string? PasswordFile { get; set; }
    /// <summary>PEM file of the CA(s) that sign the server's certificate; unset: the system's trust store.</summary>
    public string? CaFile { get; set; }
    public int MinLevel { get; set; } = 10;
    /// <summary>The rate cap: at most one mail per interval; alerts arriving meanwhile wait for the next digest.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>How long the first alert after a quiet spell waits for others before its digest goes.</summary>
    public TimeSpan GatherDelay { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Alerts listed in one digest; more wait for the next one.</summary>
    public int MaxAlertsPerDigest { get; set; } = 500;
    public string Consumer { get; set; } = "fim-sink-email";
    /// <summary>Connecting, STARTTLS, login and sending one digest.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);
}

/// <summary>RFC 5424 messages over TCP with TLS (RFC 5425), octet-counted, the alert's ECS JSON as MSG.</summary>
public sealed class SyslogSinkOptions : RetryingSinkOptions
{
    /// <summary>The receiver's host name or IP (checked against its certificate); empty disables the sink.</summary>
    public string? Host { get; set; }
    public int Port { get; set; } = 6514;
    /// <summary>PEM file of the CA(s) that sign the receiver's certificate; unset: the system's trust store.</summary>
    public string? CaFile { get; set; }
    /// <summary>PEM client certificate and key, for receivers that authenticate senders (both or neither).</summary>
    public string? ClientCertFile { get; set; }
    public string? ClientKeyFile { get; set; }
    public int MinLevel { get; set; } = 1;
    /// <summary>RFC 5424 facility number 0-23; 13 is "log audit".</summary>
    public int Facility { get; set; } = 13;
    public string AppName { get; set; } = "fim";
    public string Consumer { get; set; } = "fim-sink-syslog";
    /// <summary>Connecting, the TLS handshake and each write.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
    public int MaxDeliver { get; set; } = 20;
    public TimeSpan AckWait { get; set; } = TimeSpan.FromSeconds(30);

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);
}

public sealed class StdoutSinkOptions
{
    /// <summary>One alert per line of stdout (logs go to stderr), for log shippers.</summary>
    public bool Enabled { get; set; } = true;
    public int MinLevel { get; set; } = 1;
    public string Consumer { get; set; } = "fim-sink-stdout";
    /// <summary>"ecs" (Elastic Common Schema, for Elasticsearch, OpenSearch, Loki) or "native" (the alert as stored in FIM_ALERTS).</summary>
    public string Format { get; set; } = StdoutFormats.Ecs;
}

public static class StdoutFormats
{
    public const string Ecs = "ecs";
    public const string Native = "native";
}

public sealed class WebhookSinkOptions : RetryingSinkOptions
{
    /// <summary>Slack-compatible incoming webhook; empty disables the sink. Never logged (it often holds a token).</summary>
    public string? Url { get; set; }
    public int MinLevel { get; set; } = 7;
    public string Consumer { get; set; } = "fim-sink-webhook";
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Attempts per alert; after the last one the alert is copied to fim.deadletter.webhook.</summary>
    public int MaxDeliver { get; set; } = 8;
    public TimeSpan AckWait { get; set; } = TimeSpan.FromSeconds(30);

    public bool Enabled => !string.IsNullOrWhiteSpace(Url);
}

/// <summary>A sink that is retried through its consumer (nak with a delay): the delay doubles per attempt.</summary>
public abstract class RetryingSinkOptions
{
    /// <summary>First retry delay; doubles per attempt up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long to wait before the attempt after the <paramref name="delivered"/>-th.</summary>
    public TimeSpan Backoff(ulong delivered)
    {
        var exponent = (int)Math.Min(delivered == 0 ? 0 : delivered - 1, 20);
        return TimeSpan.FromTicks(Math.Min(RetryDelay.Ticks * (1L << exponent), MaxRetryDelay.Ticks));
    }
}

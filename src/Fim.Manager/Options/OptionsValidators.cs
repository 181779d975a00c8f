using Fim.Contracts;
using Fim.Core.Policy;
using Fim.Core.Rules;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Options;

/// <summary>Collects "Section:Key: problem" lines; the start fails with all of them.</summary>
internal sealed class OptionProblems(string section)
{
    private readonly List<string> _failures = [];

    public void Require(bool ok, string key, string problem)
    {
        if (!ok)
        {
            _failures.Add($"{section}:{key}: {problem}");
        }
    }

    public void Range(long value, long min, long max, string key) =>
        Require(value >= min && value <= max, key, $"must be {min}..{max}, got {value}");

    public void Positive(TimeSpan value, string key) => Require(value > TimeSpan.Zero, key, $"must be a positive duration, got {value}");

    public void File(string? path, string key) =>
        Require(path is null || System.IO.File.Exists(path), key, $"file '{path}' does not exist");

    /// <summary>A problem that already names its key in full.</summary>
    public void Add(string problem) => _failures.Add(problem);

    public ValidateOptionsResult Result() => _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);
}

internal sealed class NatsOptionsValidator : IValidateOptions<NatsOptions>
{
    public ValidateOptionsResult Validate(string? name, NatsOptions o)
    {
        var p = new OptionProblems(NatsOptions.Section);
        foreach (var problem in Fim.Nats.NatsOptionsValidator.Validate(o.ToClientOptions(), NatsOptions.Names))
        {
            p.Add(problem);
        }
        p.Positive(o.MinRetryDelay, "MinRetryDelay");
        p.Require(o.MaxRetryDelay >= o.MinRetryDelay, "MaxRetryDelay", "must be at least MinRetryDelay");
        p.Positive(o.RequestTimeout, "RequestTimeout");
        return p.Result();
    }
}

internal sealed class PipelineOptionsValidator : IValidateOptions<PipelineOptions>
{
    public ValidateOptionsResult Validate(string? name, PipelineOptions o)
    {
        var p = new OptionProblems(PipelineOptions.Section);
        p.Range(o.BatchSize, 1, 10_000, "BatchSize");
        p.Range(o.PublishWindow, 1, 100_000, "PublishWindow");
        p.Range(o.Workers, 1, 64, "Workers");
        // nats-server's default max_payload is 1 MiB; an event can never be larger than that anyway.
        p.Range(o.MaxEventBytes, 256, 8 * 1024 * 1024, "MaxEventBytes");
        p.Positive(o.AckWait, "AckWait");
        p.Range(o.MaxDeliver, 1, 1000, "MaxDeliver");
        p.Range(o.MaxAckPending, 1, 1_000_000, "MaxAckPending");
        p.Positive(o.NakDelay, "NakDelay");
        p.Require(o.MaxNakDelay >= o.NakDelay, "MaxNakDelay", "must be at least NakDelay");
        p.Require(o.DrainTimeout >= TimeSpan.Zero, "DrainTimeout", "must not be negative");
        p.Require(o.DuplicateWindow >= TimeSpan.FromMinutes(2), "DuplicateWindow", $"must be at least 2 minutes, got {o.DuplicateWindow}");
        // A redelivery must land inside the alert dedupe window, or a slow redelivery would store a second alert.
        p.Require(o.AckWait < o.DuplicateWindow, "AckWait", $"must be shorter than DuplicateWindow ({o.DuplicateWindow})");
        p.Require(o.EventsMaxAge >= TimeSpan.Zero && o.AlertsMaxAge >= TimeSpan.Zero && o.DeadLetterMaxAge >= TimeSpan.Zero,
            "EventsMaxAge", "retention ages must not be negative");
        p.Require(o.ScansMaxAge > TimeSpan.Zero, "ScansMaxAge", $"must be positive, got {o.ScansMaxAge}");
        p.Require(o.ScansMaxBytes >= 1 << 20, "ScansMaxBytes", $"must be at least 1 MiB, got {o.ScansMaxBytes}");
        p.Range(o.Replicas, 1, 5, "Replicas");
        p.Positive(o.PendingRefresh, "PendingRefresh");
        return p.Result();
    }
}

/// <summary>Loads the rule files once at start, so a typo stops the manager with file:line instead of misjudging events.</summary>
internal sealed class RulesOptionsValidator : IValidateOptions<RulesOptions>
{
    public ValidateOptionsResult Validate(string? name, RulesOptions o)
    {
        try
        {
            RuleLoader.LoadRuleSet(o.Files);
            return ValidateOptionsResult.Success;
        }
        catch (PolicyException e)
        {
            return ValidateOptionsResult.Fail($"{RulesOptions.Section}:Files: {e.Message}");
        }
    }
}

internal sealed class SinkOptionsValidator : IValidateOptions<SinkOptions>
{
    public ValidateOptionsResult Validate(string? name, SinkOptions o)
    {
        var p = new OptionProblems(SinkOptions.Section);
        p.Range(o.Stdout.MinLevel, 1, 15, "Stdout:MinLevel");
        p.Require(Subjects.IsValidAgentId(o.Stdout.Consumer), "Stdout:Consumer", "must match [a-z0-9_-]+");
        p.Require(o.Stdout.Format is StdoutFormats.Ecs or StdoutFormats.Native, "Stdout:Format", $"must be {StdoutFormats.Ecs} or {StdoutFormats.Native}, got '{o.Stdout.Format}'");
        var w = o.Webhook;
        if (w.Enabled)
        {
            var ok = Uri.TryCreate(w.Url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
            // The URL is not echoed: Slack webhook URLs are secrets.
            p.Require(ok, "Webhook:Url", "must be an absolute http:// or https:// URL");
        }
        p.Range(w.MinLevel, 1, 15, "Webhook:MinLevel");
        p.Require(Subjects.IsValidAgentId(w.Consumer), "Webhook:Consumer", "must match [a-z0-9_-]+");
        p.Positive(w.Timeout, "Webhook:Timeout");
        p.Positive(w.RetryDelay, "Webhook:RetryDelay");
        p.Require(w.MaxRetryDelay >= w.RetryDelay, "Webhook:MaxRetryDelay", "must be at least RetryDelay");
        p.Range(w.MaxDeliver, 1, 100, "Webhook:MaxDeliver");
        p.Require(w.AckWait > w.Timeout, "Webhook:AckWait", "must be longer than Webhook:Timeout");
        var s = o.Syslog;
        p.Range(s.Port, 1, 65535, "Syslog:Port");
        p.Range(s.MinLevel, 1, 15, "Syslog:MinLevel");
        p.Range(s.Facility, 0, 23, "Syslog:Facility");
        p.Require(s.AppName.Length is > 0 and <= 48 && s.AppName.All(c => c is > ' ' and <= '~'), "Syslog:AppName", "must be 1-48 printable ASCII characters without spaces (RFC 5424 APP-NAME)");
        p.Require(Subjects.IsValidAgentId(s.Consumer), "Syslog:Consumer", "must match [a-z0-9_-]+");
        p.Require((s.ClientCertFile is null) == (s.ClientKeyFile is null), "Syslog:ClientKeyFile", "ClientCertFile and ClientKeyFile go together");
        if (s.Enabled)
        {
            p.File(s.CaFile, "Syslog:CaFile");
            p.File(s.ClientCertFile, "Syslog:ClientCertFile");
            p.File(s.ClientKeyFile, "Syslog:ClientKeyFile");
        }
        p.Positive(s.Timeout, "Syslog:Timeout");
        p.Positive(s.RetryDelay, "Syslog:RetryDelay");
        p.Require(s.MaxRetryDelay >= s.RetryDelay, "Syslog:MaxRetryDelay", "must be at least RetryDelay");
        p.Range(s.MaxDeliver, 1, 1000, "Syslog:MaxDeliver");
        p.Require(s.AckWait > s.Timeout, "Syslog:AckWait", "must be longer than Syslog:Timeout");
        var m = o.Email;
        if (m.Enabled)
        {
            p.Require(MimeKit.MailboxAddress.TryParse(m.From, out _), "Email:From", $"'{m.From}' is not a mail address");
            p.Require(m.To.Count > 0, "Email:To", "at least one recipient is required");
            foreach (var to in m.To)
            {
                p.Require(MimeKit.MailboxAddress.TryParse(to, out _), "Email:To", $"'{to}' is not a mail address");
            }
            p.Require((m.User is null) == (m.PasswordFile is null), "Email:PasswordFile", "User and PasswordFile go together");
            p.File(m.PasswordFile, "Email:PasswordFile");
            p.File(m.CaFile, "Email:CaFile");
        }
        p.Range(m.Port, 1, 65535, "Email:Port");
        p.Range(m.MinLevel, 1, 15, "Email:MinLevel");
        p.Require(Subjects.IsValidAgentId(m.Consumer), "Email:Consumer", "must match [a-z0-9_-]+");
        p.Positive(m.Interval, "Email:Interval");
        p.Require(m.GatherDelay >= TimeSpan.Zero && m.GatherDelay <= m.Interval, "Email:GatherDelay", "must be between 0 and Email:Interval");
        p.Range(m.MaxAlertsPerDigest, 1, 10_000, "Email:MaxAlertsPerDigest");
        p.Positive(m.Timeout, "Email:Timeout");
        p.Positive(m.RetryDelay, "Email:RetryDelay");
        return p.Result();
    }
}

internal sealed class ApiOptionsValidator : IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiOptions o)
    {
        var p = new OptionProblems(ApiOptions.Section);
        p.Require(System.Net.IPAddress.TryParse(o.Address, out _), "Address", $"'{o.Address}' is not an IP address");
        p.Range(o.HttpPort, 0, 65535, "HttpPort");
        p.Range(o.GrpcPort, 0, 65535, "GrpcPort");
        p.Require(o.HttpPort == 0 || o.HttpPort != o.GrpcPort, "GrpcPort", "must differ from HttpPort");
        p.Require(o.HttpPort != 0 || o.GrpcPort != 0, "HttpPort", "at least one of HttpPort and GrpcPort must be set");
        p.Require((o.TlsCertFile is null) == (o.TlsKeyFile is null), "TlsKeyFile", "TlsCertFile and TlsKeyFile go together");
        p.File(o.TlsCertFile, "TlsCertFile");
        p.File(o.TlsKeyFile, "TlsKeyFile");
        p.Positive(o.ScanTimeout, "ScanTimeout");
        p.Range(o.MaxScan, 1, 100_000_000, "MaxScan");
        p.Range(o.HealthPort, 0, 65535, "HealthPort");
        p.Require(o.HealthPort == 0 || (o.HealthPort != o.HttpPort && o.HealthPort != o.GrpcPort), "HealthPort", "must differ from HttpPort and GrpcPort");
        p.Require(o.HealthAddress is null || System.Net.IPAddress.TryParse(o.HealthAddress, out _), "HealthAddress", $"'{o.HealthAddress}' is not an IP address");
        p.Range(o.MaxRequestBytes, 1024, 16 * 1024 * 1024, "MaxRequestBytes");
        p.Range(o.RequestsPerCallerPerMinute, 1, 1_000_000, "RequestsPerCallerPerMinute");
        p.Range(o.ScansPerCallerPerMinute, 1, 10_000, "ScansPerCallerPerMinute");
        p.Require(o.ScanInterval >= TimeSpan.Zero, "ScanInterval", "must not be negative");
        return p.Result();
    }
}

internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions o)
    {
        var p = new OptionProblems(AuthOptions.Section);
        var oidc = o.Oidc;
        if (oidc.Enabled)
        {
            var absolute = Uri.TryCreate(oidc.Authority, UriKind.Absolute, out var authority) && authority.Scheme is "http" or "https";
            p.Require(absolute, "Oidc:Authority", $"'{oidc.Authority}' is not an http(s) URL");
            p.Require(!absolute || !oidc.RequireHttpsMetadata || authority!.Scheme == "https", "Oidc:Authority",
                "must be https:// (or set Oidc:RequireHttpsMetadata=false for a local test provider)");
            p.Require(!string.IsNullOrWhiteSpace(oidc.Audience), "Oidc:Audience", "is required with Oidc:Authority");
            p.Require(!string.IsNullOrWhiteSpace(oidc.GroupsClaim), "Oidc:GroupsClaim", "must not be empty");
            p.Require(oidc.ClockSkew >= TimeSpan.Zero && oidc.ClockSkew <= TimeSpan.FromMinutes(5), "Oidc:ClockSkew", "must be 0..5 minutes");
            p.Require(oidc.ClientId is null || !string.IsNullOrEmpty(oidc.ClientSecret), "Oidc:ClientSecret", "is required with Oidc:ClientId");
            p.Require(oidc.ClientId is null || oidc.Scopes.Contains("openid"), "Oidc:Scopes", "must include openid");
            p.Positive(oidc.SessionLifetime, "Oidc:SessionLifetime");
        }
        else
        {
            p.Require(oidc.ClientId is null, "Oidc:ClientId", "needs Oidc:Authority");
        }
        for (var i = 0; i < o.Groups.Count; i++)
        {
            var g = o.Groups[i];
            p.Require(!string.IsNullOrWhiteSpace(g.Group), $"Groups:{i}:Group", "is required");
            p.Require(Security.Roles.TryParse(g.Role, out _), $"Groups:{i}:Role", $"'{g.Role}' is not one of ingest, viewer, analyst, admin");
            if (Security.GrantMapper.Selector(g)?.Problem() is { } problem)
            {
                p.Add($"{AuthOptions.Section}:Groups:{i}:MatchExpressions: {problem}");
            }
        }
        p.Positive(o.Tokens.DefaultLifetime, "Tokens:DefaultLifetime");
        p.Require(o.Tokens.MaxLifetime >= o.Tokens.DefaultLifetime, "Tokens:MaxLifetime", "must be at least Tokens:DefaultLifetime");
        if (o.Tokens.BootstrapTokenFile is { } bootstrap)
        {
            p.File(bootstrap, "Tokens:BootstrapTokenFile");
            // Never the file's content in the message: it is a secret, and a near-miss would be most of it.
            p.Require(!System.IO.File.Exists(bootstrap) || Security.BootstrapApiToken.Read(bootstrap) is not null, "Tokens:BootstrapTokenFile",
                $"file '{bootstrap}' holds no API token (fimt_<16 hex>_<43 characters>: make one with `fim-manager bootstrap-token`)");
            p.Require(o.Tokens.BootstrapTokenLifetime >= TimeSpan.FromMinutes(1) && o.Tokens.BootstrapTokenLifetime <= o.Tokens.MaxLifetime,
                "Tokens:BootstrapTokenLifetime", "must be at least one minute and at most Tokens:MaxLifetime");
        }
        return p.Result();
    }
}

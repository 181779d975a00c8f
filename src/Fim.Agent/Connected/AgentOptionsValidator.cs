using Fim.Agent.Cli;
using Fim.Contracts;
using Fim.Core.Policy;
using Microsoft.Extensions.Options;

namespace Fim.Agent.Connected;

/// <summary>Checks the configuration at start; every message names the key (as written in the YAML file) and what is wrong.</summary>
public sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    private static readonly string[] UrlSchemes = ["nats", "tls", "ws", "wss"];

    public ValidateOptionsResult Validate(string? name, AgentOptions o)
    {
        var errors = new List<string>();
        ValidateNats(o.Nats, errors);
        if (!string.IsNullOrEmpty(o.AgentId) && !Subjects.IsValidAgentId(o.AgentId))
        {
            errors.Add($"agentId: '{o.AgentId}' is not valid: use 1-128 lower-case letters, digits, '-' or '_' (it becomes a NATS subject token and a KV key)");
        }
        foreach (var (key, value) in o.Labels)
        {
            if (string.IsNullOrWhiteSpace(key))
            {
                errors.Add("labels: label names must not be empty");
            }
            else if (value is null || value.Any(char.IsControl))
            {
                errors.Add($"labels.{key}: the value must be a string without control characters");
            }
        }
        try
        {
            StateLocation.Resolve(o.StateDir, o.KeyFile);
        }
        catch (AgentException e)
        {
            errors.Add($"keyFile: {e.Message}");
        }
        if (!string.IsNullOrEmpty(o.HostRoot) && (!Path.IsPathRooted(o.HostRoot) || !Directory.Exists(o.HostRoot)))
        {
            errors.Add($"hostRoot: must be the absolute path of a directory (where the host's file system is mounted), got '{o.HostRoot}'");
        }
        if (!string.IsNullOrEmpty(o.PolicyFile))
        {
            try
            {
                PolicyCompiler.LoadAndCompile(o.PolicyFile);
            }
            catch (PolicyException e)
            {
                errors.Add($"policyFile: {e.Message}");
            }
        }
        if (!DurationText.TryParse(o.HeartbeatInterval, out var heartbeat, out var why))
        {
            errors.Add($"heartbeatInterval: {why}");
        }
        else if (heartbeat < TimeSpan.FromSeconds(1) || heartbeat > TimeSpan.FromHours(1))
        {
            errors.Add($"heartbeatInterval: {o.HeartbeatInterval} is outside 1s..1h");
        }
        if (o.OutboxMaxEvents < 1)
        {
            errors.Add($"outboxMaxEvents: must be at least 1, got {o.OutboxMaxEvents}");
        }
        if (o.PublishMaxInFlight is < 1 or > 4096)
        {
            errors.Add($"publishMaxInFlight: must be within 1..4096, got {o.PublishMaxInFlight}");
        }
        if (!string.IsNullOrEmpty(o.MetricsListen) && !MetricsEndpoint.TryParse(o.MetricsListen, out _, out _))
        {
            errors.Add($"metricsListen: expects host:port, got '{o.MetricsListen}'");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateNats(NatsConnectionOptions n, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(n.Url))
        {
            errors.Add("nats.url: required (e.g. nats://nats.fim-system:4222; several comma-separated)");
        }
        else
        {
            foreach (var url in n.Url.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !UrlSchemes.Contains(uri.Scheme) || uri.Host.Length == 0)
                {
                    errors.Add($"nats.url: '{url}' is not a server URL (nats://host:port, tls://host:port, ws(s)://...)");
                }
            }
        }
        var hasUser = !string.IsNullOrEmpty(n.User);
        var hasPassword = !string.IsNullOrEmpty(n.Password) || !string.IsNullOrEmpty(n.PasswordFile);
        var hasToken = !string.IsNullOrEmpty(n.Token) || !string.IsNullOrEmpty(n.TokenFile);
        if (hasUser && !hasPassword)
        {
            errors.Add("nats.password: required with nats.user (or nats.passwordFile)");
        }
        if (!hasUser && hasPassword)
        {
            errors.Add("nats.user: required with nats.password");
        }
        if (!string.IsNullOrEmpty(n.Password) && !string.IsNullOrEmpty(n.PasswordFile))
        {
            errors.Add("nats.passwordFile: give either nats.password or nats.passwordFile, not both");
        }
        if (!string.IsNullOrEmpty(n.Token) && !string.IsNullOrEmpty(n.TokenFile))
        {
            errors.Add("nats.tokenFile: give either nats.token or nats.tokenFile, not both");
        }
        var logins = new[] { ("user", hasUser), ("token", hasToken), ("nkeyFile", !string.IsNullOrEmpty(n.NKeyFile)), ("credsFile", !string.IsNullOrEmpty(n.CredsFile)) }
            .Where(l => l.Item2).Select(l => l.Item1).ToList();
        if (logins.Count > 1)
        {
            errors.Add($"nats.{logins[1]}: give one way to log in (user/password, token, nkeyFile or credsFile), not {string.Join(" and ", logins)}");
        }
        RequireFile(n.PasswordFile, "nats.passwordFile", errors);
        RequireFile(n.TokenFile, "nats.tokenFile", errors);
        RequireFile(n.NKeyFile, "nats.nkeyFile", errors);
        RequireFile(n.CredsFile, "nats.credsFile", errors);
        RequireFile(n.Tls.CaFile, "nats.tls.caFile", errors);
        RequireFile(n.Tls.CertFile, "nats.tls.certFile", errors);
        RequireFile(n.Tls.KeyFile, "nats.tls.keyFile", errors);
        if (string.IsNullOrEmpty(n.Tls.CertFile) != string.IsNullOrEmpty(n.Tls.KeyFile))
        {
            errors.Add(string.IsNullOrEmpty(n.Tls.CertFile)
                ? "nats.tls.certFile: required with nats.tls.keyFile"
                : "nats.tls.keyFile: required with nats.tls.certFile");
        }
    }

    private static void RequireFile(string? path, string key, List<string> errors)
    {
        if (string.IsNullOrEmpty(path))
        {
            return;
        }
        try
        {
            using var _ = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{key}: cannot read {path}: {e.Message}");
        }
    }
}

/// <summary>host:port of the metrics listener.</summary>
public static class MetricsEndpoint
{
    public static bool TryParse(string text, out string host, out int port)
    {
        var colon = text.LastIndexOf(':');
        host = colon > 0 ? text[..colon] : "";
        port = 0;
        return colon > 0 && int.TryParse(text[(colon + 1)..], out port) && port is > 0 and <= 65535;
    }
}

using Fim.Agent.Cli;
using Fim.Contracts;
using Fim.Core.Policy;
using Fim.Nats;
using Microsoft.Extensions.Options;

namespace Fim.Agent.Connected;

/// <summary>Checks the configuration at start; every message names the key (as written in the YAML file) and what is wrong.</summary>
public sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions o)
    {
        var errors = new List<string>();
        ValidateNats(o.Nats, errors);
        if (!string.IsNullOrEmpty(o.AgentId) && !Subjects.IsValidAgentId(o.AgentId))
        {
            errors.Add($"agentId: '{o.AgentId}' is not valid: use 1-128 lower-case letters, digits, '-' or '_' (it becomes a NATS subject token and a KV key)");
        }
        else if (!string.IsNullOrEmpty(o.AgentId) && Subjects.IsIngestAgentId(o.AgentId))
        {
            errors.Add($"agentId: '{o.AgentId}' is reserved: ids starting with '{Subjects.IngestAgentPrefix}' name the managers' ingest endpoint");
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
        if (!DurationText.TryParse(o.Packages.UpdateWindow, out var window, out var windowError))
        {
            errors.Add($"packages.updateWindow: {windowError}");
        }
        else if (window <= TimeSpan.Zero || window > TimeSpan.FromDays(1))
        {
            errors.Add($"packages.updateWindow: {o.Packages.UpdateWindow} is outside 1s..1d");
        }
        if (!DurationText.TryParse(o.Packages.SettleTimeout, out var settle, out var settleError))
        {
            errors.Add($"packages.settleTimeout: {settleError}");
        }
        else if (settle > TimeSpan.FromMinutes(10))
        {
            errors.Add($"packages.settleTimeout: {o.Packages.SettleTimeout} is longer than 10m");
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

    private static void ValidateNats(NatsConnectionOptions n, List<string> errors) =>
        errors.AddRange(NatsOptionsValidator.Validate(n.ToClientOptions("fim-agent", null), NatsConnectionOptions.Names));
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

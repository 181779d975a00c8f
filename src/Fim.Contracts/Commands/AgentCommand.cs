using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// A request on fim.agent.&lt;agentId&gt;.cmd: "scan" (full rescan of every running policy), "state" of a path (its
/// baseline record) or "stat-path" (the path as it is on disk now, stat and hashes, for the live fleet query).
/// </summary>
public sealed record AgentCommand
{
    public const string ScanName = "scan";
    public const string StateName = "state";
    public const string StatPathName = "stat-path";
    /// <summary>
    /// Accept the current state as the new baseline: the policy's drift counters go back to zero. Answered only on
    /// <see cref="Subjects.AgentRebaseline"/>, which only the operator's NATS user may publish to.
    /// </summary>
    public const string RebaselineName = "rebaseline";
    /// <summary>Larger requests are refused unread.</summary>
    public const int MaxBytes = 64 * 1024;

    public static AgentCommand Scan { get; } = new() { Command = ScanName };

    public static AgentCommand State(string path) => new() { Command = StateName, Path = path };

    /// <summary>Answered only for a path inside a running policy's roots, with that policy's hashing rules.</summary>
    public static AgentCommand StatPath(string path) => new() { Command = StatPathName, Path = path };

    /// <summary>A re-baseline of one policy (namespace/name) on the agent, asked for by <paramref name="requestedBy"/>.</summary>
    public static AgentCommand Rebaseline(string policy, string requestId, string requestedBy) =>
        new() { Command = RebaselineName, Policy = policy, RequestId = requestId, RequestedBy = requestedBy };

    public required string Command { get; init; }

    /// <summary>rebaseline: the policy name (namespace/name); absent = every running policy.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Policy { get; init; }

    /// <summary>rebaseline: the requester's id for this request; the heartbeat's drift names the last one applied (idempotent: a repeat is a no-op).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RequestId { get; init; }

    /// <summary>rebaseline: who asked (a Kubernetes user or field manager), kept with the accepted baseline.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RequestedBy { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Path { get; init; }
}

/// <summary>The agent's answer to an <see cref="AgentCommand"/>: always "ok", and either "error" or the command's result.</summary>
public sealed record AgentReply
{
    public required bool Ok { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }

    /// <summary>scan: the policies that started a rescan.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Started { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? Time { get; init; }

    /// <summary>rebaseline: the policies whose drift was set back to zero (or had already been, by this request id).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Rebaselined { get; init; }

    /// <summary>state: the policy whose baseline holds the path.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Policy { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Path { get; init; }

    /// <summary>stat-path: whether the path exists now (false: absent, and no state).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Exists { get; init; }

    /// <summary>state: the baseline record; stat-path: the file now. The same shape as an event's before/after.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public FileState? State { get; init; }

    public static AgentReply Failure(string error) => new() { Ok = false, Error = error };
}

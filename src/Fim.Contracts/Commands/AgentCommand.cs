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
    /// <summary>Larger requests are refused unread.</summary>
    public const int MaxBytes = 64 * 1024;

    public static AgentCommand Scan { get; } = new() { Command = ScanName };

    public static AgentCommand State(string path) => new() { Command = StateName, Path = path };

    /// <summary>Answered only for a path inside a running policy's roots, with that policy's hashing rules.</summary>
    public static AgentCommand StatPath(string path) => new() { Command = StatPathName, Path = path };

    public required string Command { get; init; }

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

using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>A request on fim.agent.&lt;agentId&gt;.cmd: "scan" (full rescan of every running policy) or "state" of a path.</summary>
public sealed record AgentCommand
{
    public const string ScanName = "scan";
    public const string StateName = "state";
    /// <summary>Larger requests are refused unread.</summary>
    public const int MaxBytes = 64 * 1024;

    public static AgentCommand Scan { get; } = new() { Command = ScanName };

    public static AgentCommand State(string path) => new() { Command = StateName, Path = path };

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

    /// <summary>state: the baseline record, the same shape as an event's before/after.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public FileState? State { get; init; }

    public static AgentReply Failure(string error) => new() { Ok = false, Error = error };
}

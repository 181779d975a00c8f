using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// Who made a change, where the kernel can tell (fanotify with a process table); absent with plain inotify. When the
/// agent saw the change happen but cannot be sure which process it was (it exited unseen, its pid was reused), the
/// actor carries only <see cref="Unknown"/>: a reason, never a guess.
/// </summary>
public sealed class Actor
{
    /// <summary>Real uid of the writer.</summary>
    public uint? Uid { get; set; }
    /// <summary>Audit login uid (auid): the human behind sudo; absent when unset (4294967295).</summary>
    public uint? LoginUid { get; set; }
    public int? Pid { get; set; }
    /// <summary>The process name (comm).</summary>
    public string? Process { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Ppid { get; set; }
    /// <summary>The executable the writer ran, as its mount namespace names it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Executable { get; set; }
    /// <summary>Arguments joined by spaces, truncated to <see cref="MaxCommandLine"/> characters; absent when the policy leaves it out.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CommandLine { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public uint? Euid { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public uint? Gid { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? User { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Group { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? LoginUser { get; set; }
    /// <summary>Audit session id; absent when unset.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public uint? SessionId { get; set; }
    /// <summary>Set instead of the identity when the writer could not be named with certainty: why (exited-unseen, pid-reused, ...).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Unknown { get; set; }

    public const int MaxCommandLine = 1024;
    /// <summary>The writer's container and pod, or the node when it runs in no pod.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Workload? Workload { get; set; }
}

/// <summary>
/// Why an agent replaced its baseline with a new one (an event of kind <see cref="FileEvent.BaselineResetKind"/>):
/// changes made before the new baseline are never reported, so the reset itself is reported.
/// </summary>
public sealed class BaselineResetInfo
{
    /// <summary>missing (deleted), older (restored or replayed copy), foreign (copied from elsewhere) or requested (--rebaseline).</summary>
    public string Reason { get; set; } = "";
    /// <summary>What the agent found, in words.</summary>
    public string Detail { get; set; } = "";
    /// <summary>The generation of the baseline the agent's anchor remembered (counts snapshots), if it remembered one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? PreviousGeneration { get; set; }
    /// <summary>When that baseline was saved.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? PreviousSavedAt { get; set; }
}

/// <summary>
/// One file change as it travels from agent to manager (subject fim.events.&lt;agentId&gt;). Versioned: a reader
/// refuses a <see cref="SchemaVersion"/> it does not know.
/// </summary>
public class FileEvent
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>
    /// The kind of an event that reports a replaced baseline rather than a file: its path is the agent's state
    /// directory for the policy, <see cref="Reset"/> says why. The default rules raise it at a high level.
    /// </summary>
    public const string BaselineResetKind = "baseline-reset";

    /// <summary>
    /// The kind of an event that carries a security tool's record (<see cref="Record"/>) instead of a file change: its
    /// source is the record's format, its path the file or endpoint the record came from.
    /// </summary>
    public const string SecurityKind = "security";

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    public string EventId { get; set; } = "";
    public string AgentId { get; set; } = "";
    public string Host { get; set; } = "";
    public string? Policy { get; set; }
    public string Path { get; set; } = "";
    /// <summary>The exact path bytes, set only when the path is not valid UTF-8 and <see cref="Path"/> shows escapes.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PathBase64 { get; set; }
    public string Kind { get; set; } = "";
    public List<string> Changed { get; set; } = [];
    public FileState? Before { get; set; }
    public FileState? After { get; set; }
    public string Source { get; set; } = "";
    public DateTimeOffset ObservedAt { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? PublishedAt { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Diff { get; set; }
    /// <summary>Whether the diff is whole, cut or left out (and why); files under reportDiffs only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DiffInfo? DiffInfo { get; set; }
    /// <summary>Append-only verdict (check "growing"): truncated, rewritten, replaced or rotated.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public GrowthInfo? Growth { get; set; }
    /// <summary>Set when the file is flapping (changing more often than the policy's threshold).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public FlappingInfo? Flapping { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Actor? Actor { get; set; }
    /// <summary>The installed package the path belongs to, and whether the new content is what it ships; absent for unpackaged files.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PackageInfo? Package { get; set; }
    /// <summary>
    /// The container whose file system holds <see cref="Path"/> (a policy watching files inside pods); the path is
    /// then as the container sees it. Absent for the node's own files.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Workload? Container { get; set; }
    /// <summary>Set on events of kind <see cref="BaselineResetKind"/> only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public BaselineResetInfo? Reset { get; set; }
    /// <summary>Set on events of kind <see cref="SecurityKind"/> only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SecurityRecord? Record { get; set; }
}

using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>Who made a change, where the kernel can tell (fanotify/audit); absent with plain inotify.</summary>
public sealed class Actor
{
    public uint? Uid { get; set; }
    public uint? LoginUid { get; set; }
    public int? Pid { get; set; }
    public string? Process { get; set; }
    public string? Container { get; set; }
}

/// <summary>
/// One file change as it travels from agent to manager (subject fim.events.&lt;agentId&gt;). Versioned: a reader
/// refuses a <see cref="SchemaVersion"/> it does not know.
/// </summary>
public class FileEvent
{
    public const int CurrentSchemaVersion = 1;

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
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Actor? Actor { get; set; }
}

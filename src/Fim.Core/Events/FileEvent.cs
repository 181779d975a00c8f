using System.Text.Json.Serialization;
using Fim.Core.Model;

namespace Fim.Core.Events;

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

    public static FileEvent From(FileChange change, EventOrigin origin, string eventId) => Fill(new FileEvent(), change, origin, eventId);

    protected static T Fill<T>(T e, FileChange change, EventOrigin origin, string eventId) where T : FileEvent
    {
        e.EventId = eventId;
        e.AgentId = origin.AgentId;
        e.Host = origin.Host;
        e.Policy = change.PolicyName;
        var path = origin.HostPath(change.Path);
        e.Path = PathBytes.ToDisplay(path);
        e.PathBase64 = PathBytes.IsValidUtf8(path) ? null : Convert.ToBase64String(path);
        e.Kind = change.Kind.ToName();
        e.Changed = [.. change.ChangedNames];
        e.Before = change.Before is null ? null : FileState.From(change.Before);
        e.After = change.After is null ? null : FileState.From(change.After);
        e.Source = change.Source.ToName();
        e.ObservedAt = change.ObservedAt;
        return e;
    }
}

/// <summary>Where events come from: the agent's identity, and where the host's file system is mounted if not at '/'.</summary>
public sealed record EventOrigin(string AgentId, string Host, string? HostRoot = null)
{
    /// <summary>A path as the host knows it: the mount prefix removed.</summary>
    public byte[] HostPath(byte[] path)
    {
        if (string.IsNullOrEmpty(HostRoot) || HostRoot.TrimEnd('/').Length == 0)
        {
            return path;
        }
        var prefix = PathBytes.FromString(HostRoot.TrimEnd('/'));
        if (!PathBytes.IsUnder(path, prefix))
        {
            return path;
        }
        return path.Length == prefix.Length ? "/"u8.ToArray() : path[prefix.Length..];
    }

    public static EventOrigin Local() => new(Environment.MachineName, Environment.MachineName);
}

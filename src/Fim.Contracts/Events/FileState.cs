using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// A path's attributes as carried in events: AIDE's and osquery's file fields, in plain JSON types. Optional fields are
/// left out when unset (absent reads as null): a third of an event's bytes were nulls, paid for at every hop.
/// </summary>
public sealed class FileState
{
    public string Type { get; set; } = "";
    public long Size { get; set; }
    /// <summary>Permission bits in octal, e.g. "0644" or "4755".</summary>
    public string Mode { get; set; } = "";
    public uint Uid { get; set; }
    public uint Gid { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Owner { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Group { get; set; }
    public DateTimeOffset Mtime { get; set; }
    public DateTimeOffset Ctime { get; set; }
    public ulong Inode { get; set; }
    public ulong Device { get; set; }
    public uint Nlink { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Target { get; set; }
    /// <summary>Set (instead of relying on <see cref="Target"/>) when the symlink target is not valid UTF-8.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TargetBase64 { get; set; }
    /// <summary>Why there is no hash: "too-large", "unreadable", "unstable"; null when hashed or not applicable.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? HashStatus { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Sha256 { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Sha512 { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Sha1 { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Md5 { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Xxh128 { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, string>? Xattrs { get; set; }
}

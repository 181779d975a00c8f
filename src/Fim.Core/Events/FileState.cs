using System.Text.Json.Serialization;
using Fim.Core.Model;

namespace Fim.Core.Events;

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

    public static FileState From(FileRecord r) => new()
    {
        Type = r.Type.ToName(),
        Size = r.Size,
        Mode = Convert.ToString(r.Mode, 8).PadLeft(4, '0'),
        Uid = r.Uid,
        Gid = r.Gid,
        Owner = r.Owner,
        Group = r.Group,
        Mtime = FromNs(r.MtimeNs),
        Ctime = FromNs(r.CtimeNs),
        Inode = r.Inode,
        Device = r.Device,
        Nlink = r.LinkCount,
        Target = r.SymlinkTarget is { } t ? PathBytes.ToDisplay(t) : null,
        TargetBase64 = r.SymlinkTarget is { } t2 && !PathBytes.IsValidUtf8(t2) ? Convert.ToBase64String(t2) : null,
        HashStatus = r.HashStatus switch
        {
            Model.HashStatus.TooLarge => "too-large",
            Model.HashStatus.Unreadable => "unreadable",
            Model.HashStatus.Unstable => "unstable",
            _ => null,
        },
        Sha256 = Hex(r.GetHash(HashAlgorithmKind.Sha256)),
        Sha512 = Hex(r.GetHash(HashAlgorithmKind.Sha512)),
        Sha1 = Hex(r.GetHash(HashAlgorithmKind.Sha1)),
        Md5 = Hex(r.GetHash(HashAlgorithmKind.Md5)),
        Xxh128 = Hex(r.GetHash(HashAlgorithmKind.Xxh128)),
        Xattrs = r.Xattrs?.ToDictionary(x => x.Key, x => Convert.ToBase64String(x.Value)),
    };

    private static DateTimeOffset FromNs(long ns) =>
        DateTimeOffset.UnixEpoch.AddTicks(ns / 100);

    private static string? Hex(byte[]? h) => h is null ? null : Convert.ToHexStringLower(h);
}

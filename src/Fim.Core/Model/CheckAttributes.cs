namespace Fim.Core.Model;

/// <summary>
/// The attributes a policy compares. The default is a superset of AIDE's p+i+n+u+g+s+m+c+sha256+ftype+l.
/// </summary>
[Flags]
public enum CheckAttributes : uint
{
    None = 0,
    Type = 1 << 0,
    Mode = 1 << 1,
    Uid = 1 << 2,
    Gid = 1 << 3,
    Owner = 1 << 4,
    Group = 1 << 5,
    Size = 1 << 6,
    Mtime = 1 << 7,
    Ctime = 1 << 8,
    Inode = 1 << 9,
    LinkCount = 1 << 10,
    SymlinkTarget = 1 << 11,
    Hash = 1 << 12,
    Xattrs = 1 << 13,
    Device = 1 << 14,
    /// <summary>Append-only: growth with earlier bytes unchanged is not a change (AIDE's "growing"); verified by checkpoints, not a whole-file hash.</summary>
    Growing = 1 << 15,

    Default = Type | Mode | Uid | Gid | Owner | Group | Size | Mtime | Ctime | Inode | LinkCount | SymlinkTarget | Hash,
}

public static class CheckAttributeNames
{
    private static readonly (CheckAttributes Flag, string Name)[] Names =
    [
        (CheckAttributes.Type, "type"),
        (CheckAttributes.Mode, "mode"),
        (CheckAttributes.Uid, "uid"),
        (CheckAttributes.Gid, "gid"),
        (CheckAttributes.Owner, "owner"),
        (CheckAttributes.Group, "group"),
        (CheckAttributes.Size, "size"),
        (CheckAttributes.Mtime, "mtime"),
        (CheckAttributes.Ctime, "ctime"),
        (CheckAttributes.Inode, "inode"),
        (CheckAttributes.LinkCount, "nlink"),
        (CheckAttributes.SymlinkTarget, "target"),
        (CheckAttributes.Hash, "hash"),
        (CheckAttributes.Xattrs, "xattrs"),
        (CheckAttributes.Device, "device"),
        (CheckAttributes.Growing, "growing"),
    ];

    public static IEnumerable<string> All => Names.Select(n => n.Name);

    public static string ToName(this CheckAttributes single) =>
        Names.First(n => n.Flag == single).Name;

    public static bool TryParse(string name, out CheckAttributes flag)
    {
        foreach (var (f, n) in Names)
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            {
                flag = f;
                return true;
            }
        }
        flag = CheckAttributes.None;
        return false;
    }
}

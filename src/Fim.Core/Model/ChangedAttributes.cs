namespace Fim.Core.Model;

/// <summary>
/// The attributes a change can list as differing. The numeric order is the order they are listed in, on the wire
/// ("changed": ["size", "mode", "sha256", ...]) and everywhere else.
/// </summary>
[Flags]
public enum ChangedAttributes : uint
{
    None = 0,
    Type = 1 << 0,
    Size = 1 << 1,
    Mode = 1 << 2,
    Uid = 1 << 3,
    Gid = 1 << 4,
    Owner = 1 << 5,
    Group = 1 << 6,
    Mtime = 1 << 7,
    Ctime = 1 << 8,
    Inode = 1 << 9,
    LinkCount = 1 << 10,
    Device = 1 << 11,
    SymlinkTarget = 1 << 12,
    // One bit per HashAlgorithmKind, in its order (see ChangedAttributeNames.Of).
    Sha256 = 1 << 13,
    Sha512 = 1 << 14,
    Sha1 = 1 << 15,
    Md5 = 1 << 16,
    Xxh128 = 1 << 17,
    HashStatus = 1 << 18,
    Xattrs = 1 << 19,

    AnyHash = Sha256 | Sha512 | Sha1 | Md5 | Xxh128,

    /// <summary>What makes a change "modified" rather than "attributes".</summary>
    Content = Size | SymlinkTarget | AnyHash | HashStatus,
}

/// <summary>The one table of changed attributes and their wire names.</summary>
public static class ChangedAttributeNames
{
    // Names the policy's check list also uses come from there, hash names from HashAlgorithmNames: each is spelled once.
    private static readonly (ChangedAttributes Flag, string Name)[] Table =
    [
        (ChangedAttributes.Type, CheckAttributes.Type.ToName()),
        (ChangedAttributes.Size, CheckAttributes.Size.ToName()),
        (ChangedAttributes.Mode, CheckAttributes.Mode.ToName()),
        (ChangedAttributes.Uid, CheckAttributes.Uid.ToName()),
        (ChangedAttributes.Gid, CheckAttributes.Gid.ToName()),
        (ChangedAttributes.Owner, CheckAttributes.Owner.ToName()),
        (ChangedAttributes.Group, CheckAttributes.Group.ToName()),
        (ChangedAttributes.Mtime, CheckAttributes.Mtime.ToName()),
        (ChangedAttributes.Ctime, CheckAttributes.Ctime.ToName()),
        (ChangedAttributes.Inode, CheckAttributes.Inode.ToName()),
        (ChangedAttributes.LinkCount, CheckAttributes.LinkCount.ToName()),
        (ChangedAttributes.Device, CheckAttributes.Device.ToName()),
        (ChangedAttributes.SymlinkTarget, CheckAttributes.SymlinkTarget.ToName()),
        (ChangedAttributes.Sha256, HashAlgorithmKind.Sha256.ToName()),
        (ChangedAttributes.Sha512, HashAlgorithmKind.Sha512.ToName()),
        (ChangedAttributes.Sha1, HashAlgorithmKind.Sha1.ToName()),
        (ChangedAttributes.Md5, HashAlgorithmKind.Md5.ToName()),
        (ChangedAttributes.Xxh128, HashAlgorithmKind.Xxh128.ToName()),
        (ChangedAttributes.HashStatus, "hash-status"),
        (ChangedAttributes.Xattrs, CheckAttributes.Xattrs.ToName()),
    ];

    /// <summary>Every wire name, in listing order.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Table.Select(t => t.Name)];

    /// <summary>The flag for a hash algorithm's digest.</summary>
    public static ChangedAttributes Of(HashAlgorithmKind kind) => (ChangedAttributes)((uint)ChangedAttributes.Sha256 << (int)kind);

    /// <summary>The wire names of the flags in <paramref name="set"/>, in listing order.</summary>
    public static string[] ToNames(this ChangedAttributes set)
    {
        if (set == ChangedAttributes.None)
        {
            return [];
        }
        var names = new string[uint.PopCount((uint)set)];
        var i = 0;
        foreach (var (flag, name) in Table)
        {
            if ((set & flag) != 0)
            {
                names[i++] = name;
            }
        }
        return names;
    }

    public static bool TryParse(string name, out ChangedAttributes flag)
    {
        foreach (var (f, n) in Table)
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            {
                flag = f;
                return true;
            }
        }
        flag = ChangedAttributes.None;
        return false;
    }

    /// <summary>The set named by <paramref name="names"/>; names that are not attributes are ignored.</summary>
    public static ChangedAttributes Parse(IEnumerable<string> names)
    {
        var set = ChangedAttributes.None;
        foreach (var name in names)
        {
            if (TryParse(name, out var flag))
            {
                set |= flag;
            }
        }
        return set;
    }
}

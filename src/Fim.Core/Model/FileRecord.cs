namespace Fim.Core.Model;

/// <summary>Why a regular file has no content hash.</summary>
public enum HashStatus : byte
{
    /// <summary>Hashes hold the content at observation time.</summary>
    Hashed = 0,
    /// <summary>Not a regular file, or the policy asks for no hash.</summary>
    NotApplicable,
    /// <summary>Larger than the policy's maximum file size to hash.</summary>
    TooLarge,
    /// <summary>Could not be opened or read (permission denied, I/O error).</summary>
    Unreadable,
    /// <summary>Kept changing while it was read; no trustworthy hash exists.</summary>
    Unstable,
}

/// <summary>
/// Everything the agent records about one path: what AIDE's database holds (p+i+n+u+g+s+m+c+hashes+ftype+l)
/// plus owner names and optional xattrs. Immutable after the scan that made it, except <see cref="SeenGeneration"/>.
/// </summary>
/// <remarks>
/// A baseline holds one per path, a million of them for a large host: the owner and group names are one shared pair
/// (<see cref="NamePair"/>: a host has few), and the symlink target and xattrs, which most records lack, are one
/// reference to a side object, so a record is 120 bytes instead of 136.
/// </remarks>
public sealed class FileRecord
{
    private NamePair? _names;
    private RareFields? _rare;

    public required byte[] Path { get; init; }
    public FileType Type { get; init; }
    /// <summary>Permission bits including setuid, setgid and sticky (mode &amp; 07777).</summary>
    public uint Mode { get; init; }
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public string? Owner
    {
        get => _names?.Owner;
        init => _names = NamePair.Of(value, _names?.Group);
    }

    public string? Group
    {
        get => _names?.Group;
        init => _names = NamePair.Of(_names?.Owner, value);
    }

    public long Size { get; init; }
    /// <summary>Nanoseconds since the Unix epoch.</summary>
    public long MtimeNs { get; init; }
    public long CtimeNs { get; init; }
    public ulong Inode { get; init; }
    public ulong Device { get; init; }
    public uint LinkCount { get; init; }
    public byte[]? SymlinkTarget
    {
        get => _rare?.SymlinkTarget;
        init => _rare = RareFields.Of(value, _rare?.Xattrs);
    }

    public HashStatus HashStatus { get; init; } = HashStatus.NotApplicable;

    /// <summary>The content digests, packed in a shared buffer: <see cref="RecordDigests.Get"/> reads one without copying.</summary>
    public RecordDigests Digests { get; init; } = RecordDigests.None;

    /// <summary>
    /// Indexed by <see cref="HashAlgorithmKind"/>; null where not computed. Setting it packs the digests into
    /// <see cref="Digests"/>; reading it makes a copy, so hot paths use <see cref="Digests"/> or <see cref="HasHash"/>.
    /// </summary>
    public byte[]?[]? Hashes
    {
        get => Digests.ToArrays();
        init => Digests = RecordDigests.Pack(value);
    }
    /// <summary>Sorted name/value pairs, when the policy checks xattrs.</summary>
    public IReadOnlyList<KeyValuePair<string, byte[]>>? Xattrs
    {
        get => _rare?.Xattrs;
        init => _rare = RareFields.Of(_rare?.SymlinkTarget, value);
    }

    /// <summary>The scan generation that last saw this path; how a scan finds what disappeared.</summary>
    internal int SeenGeneration;

    /// <summary>A copy of one digest, or null; <c>Digests.Get(kind)</c> reads it without copying.</summary>
    public byte[]? GetHash(HashAlgorithmKind kind) => Digests.Has(kind) ? Digests.Get(kind).ToArray() : null;

    public bool HasHash(HashAlgorithmKind kind) => Digests.Has(kind);

    public FileRecord With(Action<FileRecordBuilder> edit)
    {
        var b = new FileRecordBuilder(this);
        edit(b);
        return b.Build();
    }
}

/// <summary>
/// An owner and group name, shared by every record that has both: a pool keeps one pair per combination (a host has a
/// handful), so a record holds one reference where it held two strings' references.
/// </summary>
internal sealed class NamePair
{
    private const int MaxPooled = 4096;
    private const int RecentSlots = 4;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string?, string?), NamePair> Pool = new();
    // The last pairs this thread asked for: records come in runs of the same names, as instances the loader or the
    // scanner's name cache share, so a reference comparison usually answers without hashing the strings.
    [ThreadStatic] private static NamePair?[]? t_recent;
    [ThreadStatic] private static int t_next;

    private NamePair(string? owner, string? group)
    {
        Owner = owner;
        Group = group;
    }

    public string? Owner { get; }

    public string? Group { get; }

    public static NamePair? Of(string? owner, string? group)
    {
        if (owner is null && group is null)
        {
            return null;
        }
        var recent = t_recent ??= new NamePair?[RecentSlots];
        foreach (var r in recent)
        {
            if (r is not null && ReferenceEquals(r.Owner, owner) && ReferenceEquals(r.Group, group))
            {
                return r;
            }
        }
        if (!Pool.TryGetValue((owner, group), out var pair))
        {
            pair = new NamePair(owner, group);
            if (Pool.Count < MaxPooled)
            {
                pair = Pool.GetOrAdd((owner, group), pair);
            }
        }
        recent[t_next] = pair;
        t_next = (t_next + 1) % RecentSlots;
        return pair;
    }
}

/// <summary>What few records carry: a symlink's target, and xattrs (an empty list, the usual one, is shared).</summary>
internal sealed class RareFields
{
    private static readonly KeyValuePair<string, byte[]>[] NoXattrs = [];
    private static readonly RareFields OnlyNoXattrs = new(null, NoXattrs);

    private RareFields(byte[]? symlinkTarget, IReadOnlyList<KeyValuePair<string, byte[]>>? xattrs)
    {
        SymlinkTarget = symlinkTarget;
        Xattrs = xattrs;
    }

    public byte[]? SymlinkTarget { get; }

    public IReadOnlyList<KeyValuePair<string, byte[]>>? Xattrs { get; }

    public static RareFields? Of(byte[]? symlinkTarget, IReadOnlyList<KeyValuePair<string, byte[]>>? xattrs)
    {
        if (xattrs is { Count: 0 })
        {
            xattrs = NoXattrs;
        }
        return (symlinkTarget, xattrs) switch
        {
            (null, null) => null,
            (null, { } x) when ReferenceEquals(x, NoXattrs) => OnlyNoXattrs,
            _ => new RareFields(symlinkTarget, xattrs),
        };
    }
}

/// <summary>Mutable companion for tests and for the scanner's incremental path.</summary>
public sealed class FileRecordBuilder(FileRecord r)
{
    public byte[] Path = r.Path;
    public FileType Type = r.Type;
    public uint Mode = r.Mode;
    public uint Uid = r.Uid;
    public uint Gid = r.Gid;
    public string? Owner = r.Owner;
    public string? Group = r.Group;
    public long Size = r.Size;
    public long MtimeNs = r.MtimeNs;
    public long CtimeNs = r.CtimeNs;
    public ulong Inode = r.Inode;
    public ulong Device = r.Device;
    public uint LinkCount = r.LinkCount;
    public byte[]? SymlinkTarget = r.SymlinkTarget;
    public HashStatus HashStatus = r.HashStatus;
    public RecordDigests Digests = r.Digests;
    public IReadOnlyList<KeyValuePair<string, byte[]>>? Xattrs = r.Xattrs;

    public FileRecord Build() => new()
    {
        Path = Path,
        Type = Type,
        Mode = Mode,
        Uid = Uid,
        Gid = Gid,
        Owner = Owner,
        Group = Group,
        Size = Size,
        MtimeNs = MtimeNs,
        CtimeNs = CtimeNs,
        Inode = Inode,
        Device = Device,
        LinkCount = LinkCount,
        SymlinkTarget = SymlinkTarget,
        HashStatus = HashStatus,
        Digests = Digests,
        Xattrs = Xattrs,
    };

    /// <summary>Unpacked digests (see <see cref="FileRecord.Hashes"/>); setting packs them.</summary>
    public byte[]?[]? Hashes
    {
        get => Digests.ToArrays();
        set => Digests = RecordDigests.Pack(value);
    }
}

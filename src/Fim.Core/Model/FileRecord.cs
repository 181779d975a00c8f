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
/// A baseline holds one per path, a million of them for a large host: the owner and group ids, their names and the
/// device are one shared <see cref="Model.Ownership"/> (a host has a handful of combinations), and the symlink target
/// and xattrs, which most records lack, are one reference to a side object, so a record is 104 bytes instead of 136.
/// </remarks>
public sealed class FileRecord
{
    private Ownership? _ownership;
    private RareFields? _rare;

    public required byte[] Path { get; init; }
    public FileType Type { get; init; }
    /// <summary>Permission bits including setuid, setgid and sticky (mode &amp; 07777).</summary>
    public uint Mode { get; init; }

    public uint Uid
    {
        get => _ownership?.Uid ?? 0;
        init => _ownership = Ownership.Of(value, Gid, Owner, Group, Device);
    }

    public uint Gid
    {
        get => _ownership?.Gid ?? 0;
        init => _ownership = Ownership.Of(Uid, value, Owner, Group, Device);
    }

    public string? Owner
    {
        get => _ownership?.Owner;
        init => _ownership = Ownership.Of(Uid, Gid, value, Group, Device);
    }

    public string? Group
    {
        get => _ownership?.Group;
        init => _ownership = Ownership.Of(Uid, Gid, Owner, value, Device);
    }

    /// <summary>
    /// <see cref="Uid"/>, <see cref="Gid"/>, <see cref="Owner"/>, <see cref="Group"/> and <see cref="Device"/> in one
    /// lookup: what the loader and the scanner set, where setting the five one by one would look up four partial ones.
    /// </summary>
    internal Ownership? Ownership
    {
        get => _ownership;
        init => _ownership = value;
    }

    /// <summary><see cref="SymlinkTarget"/> and <see cref="Xattrs"/> as the one shared object they live in.</summary>
    internal RareFields? Rare
    {
        get => _rare;
        init => _rare = value;
    }

    public long Size { get; init; }
    /// <summary>Nanoseconds since the Unix epoch.</summary>
    public long MtimeNs { get; init; }
    public long CtimeNs { get; init; }
    public ulong Inode { get; init; }
    public ulong Device
    {
        get => _ownership?.Device ?? 0;
        init => _ownership = Ownership.Of(Uid, Gid, Owner, Group, value);
    }

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
/// The owner and group of a record, by id and name, and the device it lives on: shared by every record with the same
/// five (a pool keeps one per combination, and a host has a handful), so a record holds one reference where it held
/// two ids, a device number and two names' references.
/// </summary>
internal sealed class Ownership
{
    private const int MaxPooled = 4096;
    private const int RecentSlots = 4;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Key, Ownership> Pool = new();
    // The last ones this thread asked for: records come in runs of the same owner on the same device, with names as
    // instances the loader or the scanner's name cache share, so comparing values and references usually answers
    // without hashing the strings.
    [ThreadStatic] private static Ownership?[]? t_recent;
    [ThreadStatic] private static int t_next;

    private readonly record struct Key(uint Uid, uint Gid, string? Owner, string? Group, ulong Device);

    private Ownership(Key key)
    {
        Uid = key.Uid;
        Gid = key.Gid;
        Owner = key.Owner;
        Group = key.Group;
        Device = key.Device;
    }

    public uint Uid { get; }

    public uint Gid { get; }

    public string? Owner { get; }

    public string? Group { get; }

    public ulong Device { get; }

    /// <summary>The shared instance of these five, or null when all are zero or null (a record's default).</summary>
    public static Ownership? Of(uint uid, uint gid, string? owner, string? group, ulong device)
    {
        if (uid == 0 && gid == 0 && owner is null && group is null && device == 0)
        {
            return null;
        }
        var recent = t_recent ??= new Ownership?[RecentSlots];
        foreach (var r in recent)
        {
            if (r is not null && r.Uid == uid && r.Gid == gid && r.Device == device &&
                ReferenceEquals(r.Owner, owner) && ReferenceEquals(r.Group, group))
            {
                return r;
            }
        }
        var key = new Key(uid, gid, owner, group, device);
        if (!Pool.TryGetValue(key, out var found))
        {
            found = new Ownership(key);
            if (Pool.Count < MaxPooled)
            {
                found = Pool.GetOrAdd(key, found);
            }
        }
        recent[t_next] = found;
        t_next = (t_next + 1) % RecentSlots;
        return found;
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
        Ownership = Ownership.Of(Uid, Gid, Owner, Group, Device),
        Size = Size,
        MtimeNs = MtimeNs,
        CtimeNs = CtimeNs,
        Inode = Inode,
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

/// <summary>
/// A <see cref="FileRecord"/>'s fields with the path as a span: what a decoder reads and a store freezes without making
/// an object (or a path array) for the record in between.
/// </summary>
internal ref struct RecordFields
{
    public ReadOnlySpan<byte> Path;
    public FileType Type;
    public uint Mode;
    public Ownership? Ownership;
    public long Size;
    public long MtimeNs;
    public long CtimeNs;
    public ulong Inode;
    public uint LinkCount;
    public RareFields? Rare;
    public HashStatus HashStatus;
    public RecordDigests Digests;

    public static RecordFields Of(FileRecord r) => new()
    {
        Path = r.Path,
        Type = r.Type,
        Mode = r.Mode,
        Ownership = r.Ownership,
        Size = r.Size,
        MtimeNs = r.MtimeNs,
        CtimeNs = r.CtimeNs,
        Inode = r.Inode,
        LinkCount = r.LinkCount,
        Rare = r.Rare,
        HashStatus = r.HashStatus,
        Digests = r.Digests,
    };

    public readonly FileRecord ToRecord(int seenGeneration = 0) => new()
    {
        Path = Path.ToArray(),
        Type = Type,
        Mode = Mode,
        Ownership = Ownership,
        Size = Size,
        MtimeNs = MtimeNs,
        CtimeNs = CtimeNs,
        Inode = Inode,
        LinkCount = LinkCount,
        Rare = Rare,
        HashStatus = HashStatus,
        Digests = Digests,
        SeenGeneration = seenGeneration,
    };
}

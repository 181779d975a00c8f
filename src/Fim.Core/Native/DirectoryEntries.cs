namespace Fim.Core.Native;

/// <summary>One linux_dirent64 record: its NUL-terminated name (exact bytes) and d_type.</summary>
internal readonly ref struct DirectoryEntry(ReadOnlySpan<byte> nameZ, byte type)
{
    public const byte DtUnknown = 0;
    public const byte DtDir = 4;

    /// <summary>The name with its terminating NUL, ready for the *at() calls.</summary>
    public ReadOnlySpan<byte> NameZ { get; } = nameZ;

    public ReadOnlySpan<byte> Name => NameZ[..^1];

    public byte Type { get; } = type;

    public bool IsDotOrDotDot => NameZ.SequenceEqual(".\0"u8) || NameZ.SequenceEqual("..\0"u8);
}

/// <summary>Walks the records one getdents64 call filled in (see <see cref="Posix.GetDents"/>); allocates nothing.</summary>
internal ref struct DirectoryEntries(ReadOnlySpan<byte> filled)
{
    // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[].
    private const int RecordLengthOffset = 16;
    private const int TypeOffset = 18;
    private const int NameOffset = 19;

    private readonly ReadOnlySpan<byte> _filled = filled;
    private int _offset;

    public DirectoryEntry Current { get; private set; }

    public readonly DirectoryEntries GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_offset >= _filled.Length)
        {
            return false;
        }
        var record = _filled[_offset..];
        var length = record[RecordLengthOffset] | (record[RecordLengthOffset + 1] << 8);
        var name = record[NameOffset..length];
        Current = new DirectoryEntry(name[..(name.IndexOf((byte)0) + 1)], record[TypeOffset]);
        _offset += length;
        return true;
    }
}

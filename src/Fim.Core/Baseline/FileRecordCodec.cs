using System.Runtime.CompilerServices;
using System.Text;
using Fim.Core.Model;

namespace Fim.Core.Baseline;

/// <summary>
/// Compact binary encoding of a <see cref="FileRecord"/>, used by the snapshot and the journal.
/// Each encoded record starts with its format version so that a journal may mix records written
/// before and after an agent upgrade. Decoding checks every length against the input and throws
/// <see cref="FormatException"/> on anything malformed.
/// </summary>
/// <remarks>
/// Version 1 layout (integers little-endian, "len" = unsigned LEB128 varint, "opt" = varint 0 for null, else length + 1):
/// version u8, path len+bytes, type u8, mode u32, uid u32, gid u32, owner opt+UTF-8, group opt+UTF-8,
/// size i64, mtime i64, ctime i64, inode u64, device u64, links u32, symlink target opt+bytes, hash status u8,
/// hashes opt count then per entry opt+bytes, xattrs opt count then per entry name len+UTF-8 and value len+bytes.
/// A null xattr value is written as empty.
/// </remarks>
public static class FileRecordCodec
{
    public const byte CurrentVersion = 1;

    private const int FixedFieldsSize = 1 + 4 + 4 + 4 + 8 + 8 + 8 + 8 + 8 + 4 + 1;
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);
    // Encoding replaces lone surrogates instead of throwing: a name the OS gave us must never make a save fail.
    private static readonly UTF8Encoding Utf8 = new(false, false);

    // Hot loops run once per save or open, over every record: optimised code from the first call, not tier-0.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int GetEncodedLength(FileRecord record)
    {
        ArgumentNullException.ThrowIfNull(record.Path);
        var n = 1 + LenBytes(record.Path.Length) + FixedFieldsSize;
        n += OptString(record.Owner) + OptString(record.Group) + OptBytes(record.SymlinkTarget);
        var digests = record.Digests;
        n += OptCount(digests.IsNone ? null : digests.Slots);
        for (var i = 0; i < digests.Slots; i++)
        {
            n += digests.Has((HashAlgorithmKind)i) ? SpanWriter.LengthSize(digests.Get((HashAlgorithmKind)i).Length + 1) + digests.Get((HashAlgorithmKind)i).Length : 1;
        }
        n += OptCount(record.Xattrs?.Count);
        if (record.Xattrs is { } xattrs)
        {
            foreach (var (name, value) in xattrs)
            {
                ArgumentNullException.ThrowIfNull(name, "xattr name");
                n += LenBytes(Utf8.GetByteCount(name)) + LenBytes(value?.Length ?? 0);
            }
        }
        return n;
    }

    public static byte[] Encode(FileRecord record)
    {
        var buffer = new byte[GetEncodedLength(record)];
        Encode(record, buffer);
        return buffer;
    }

    /// <summary>Writes the record into <paramref name="destination"/>, which must hold <see cref="GetEncodedLength"/> bytes; returns that length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Encode(FileRecord record, Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.Byte(CurrentVersion);
        w.Length(record.Path.Length);
        w.Bytes(record.Path);
        w.Byte((byte)record.Type);
        w.UInt32(record.Mode);
        w.UInt32(record.Uid);
        w.UInt32(record.Gid);
        WriteOptString(ref w, record.Owner);
        WriteOptString(ref w, record.Group);
        w.Int64(record.Size);
        w.Int64(record.MtimeNs);
        w.Int64(record.CtimeNs);
        w.UInt64(record.Inode);
        w.UInt64(record.Device);
        w.UInt32(record.LinkCount);
        WriteOptBytes(ref w, record.SymlinkTarget);
        w.Byte((byte)record.HashStatus);
        var digests = record.Digests;
        WriteOptCount(ref w, digests.IsNone ? null : digests.Slots);
        for (var i = 0; i < digests.Slots; i++)
        {
            if (digests.Has((HashAlgorithmKind)i))
            {
                var d = digests.Get((HashAlgorithmKind)i);
                w.Length(d.Length + 1);
                w.Bytes(d);
            }
            else
            {
                w.Length(0);
            }
        }
        WriteOptCount(ref w, record.Xattrs?.Count);
        if (record.Xattrs is { } xattrs)
        {
            foreach (var (name, value) in xattrs)
            {
                w.Length(Utf8.GetByteCount(name));
                w.Utf8(name);
                w.Length(value?.Length ?? 0);
                w.Bytes(value);
            }
        }
        return w.Position;
    }

    public static FileRecord Decode(ReadOnlySpan<byte> data)
    {
        Read(data, null, DigestSlab.ForThisThread, out var f);
        return f.ToRecord();
    }

    /// <summary>Reads and checks one encoded record into <paramref name="fields"/>, whose path is a slice of <paramref name="data"/>: no object per record.</summary>
    /// <param name="names">Shares one string per distinct owner or group name; null to share none.</param>
    /// <param name="digestSlab">Where the digests are packed (a loader's own slab, or this thread's).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Read(ReadOnlySpan<byte> data, StringPool? names, DigestSlab digestSlab, out RecordFields fields)
    {
        var r = new SpanReader(data);
        var version = r.Byte("version");
        if (version != CurrentVersion)
        {
            throw new FormatException($"unsupported record version {version} (this agent reads version {CurrentVersion})");
        }
        var path = r.Bytes(r.Length("path"), "path");
        var type = r.Byte("type");
        if (type > (byte)FileType.BlockDevice)
        {
            throw new FormatException($"invalid file type {type}");
        }
        var mode = r.UInt32("mode");
        var uid = r.UInt32("uid");
        var gid = r.UInt32("gid");
        var owner = ReadOptString(ref r, "owner", names);
        var group = ReadOptString(ref r, "group", names);
        var size = r.Int64("size");
        var mtime = r.Int64("mtime");
        var ctime = r.Int64("ctime");
        var inode = r.UInt64("inode");
        var device = r.UInt64("device");
        var links = r.UInt32("links");
        var target = ReadOptBytes(ref r, "symlink target");
        var hashStatus = r.Byte("hash status");
        if (hashStatus > (byte)HashStatus.Unstable)
        {
            throw new FormatException($"invalid hash status {hashStatus}");
        }
        var digests = ReadDigests(ref r, digestSlab);
        KeyValuePair<string, byte[]>[]? xattrs = null;
        var xattrCount = ReadOptCount(ref r, "xattrs", minItemBytes: 2);
        if (xattrCount >= 0)
        {
            xattrs = new KeyValuePair<string, byte[]>[xattrCount];
            for (var i = 0; i < xattrCount; i++)
            {
                var name = DecodeUtf8(r.Bytes(r.Length("xattr name"), "xattr name"), "xattr name");
                var value = r.Bytes(r.Length("xattr value"), "xattr value").ToArray();
                xattrs[i] = new(name, value);
            }
        }
        if (!r.AtEnd)
        {
            throw new FormatException($"{r.Remaining} unexpected bytes after the record");
        }
        fields = new RecordFields
        {
            Path = path,
            Type = (FileType)type,
            Mode = mode,
            Ownership = Ownership.Of(uid, gid, owner, group, device),
            Size = size,
            MtimeNs = mtime,
            CtimeNs = ctime,
            Inode = inode,
            LinkCount = links,
            Rare = RareFields.Of(target, xattrs),
            HashStatus = (HashStatus)hashStatus,
            Digests = digests,
        };
    }

    /// <summary>Reads the optional digest list straight into its packed form: no array per digest or per record.</summary>
    private static RecordDigests ReadDigests(ref SpanReader r, DigestSlab slab)
    {
        var slots = ReadOptCount(ref r, "hashes");
        if (slots < 0)
        {
            return RecordDigests.None;
        }
        if (slots > RecordDigests.MaxSlots)
        {
            throw new FormatException($"{slots} hash slots (at most {RecordDigests.MaxSlots})");
        }
        // First pass on a copy of the reader: which slots hold a digest and how many bytes they take packed.
        var scan = r;
        var packedLength = 0;
        byte present = 0;
        for (var i = 0; i < slots; i++)
        {
            var n = scan.Length("hash");
            if (n == 0)
            {
                continue;
            }
            if (n - 1 > RecordDigests.MaxDigestLength)
            {
                throw new FormatException($"a hash of {n - 1} bytes (at most {RecordDigests.MaxDigestLength})");
            }
            scan.Bytes(n - 1, "hash");
            packedLength += n;
            present |= (byte)(1 << i);
        }
        if (present == 0)
        {
            r = scan;
            return RecordDigests.Pack(new byte[]?[slots], slab);
        }
        var (buffer, offset) = slab.Reserve(packedLength);
        var w = offset;
        for (var i = 0; i < slots; i++)
        {
            var n = r.Length("hash");
            if (n == 0)
            {
                continue;
            }
            buffer[w++] = (byte)(n - 1);
            r.Bytes(n - 1, "hash").CopyTo(buffer.AsSpan(w));
            w += n - 1;
        }
        return RecordDigests.FromParts(buffer, offset, present, slots);
    }

    private static int LenBytes(int length) => SpanWriter.LengthSize(length) + length;

    private static int OptBytes(byte[]? v) => v is null ? 1 : SpanWriter.LengthSize(v.Length + 1) + v.Length;

    private static int OptString(string? v)
    {
        if (v is null)
        {
            return 1;
        }
        var n = Utf8.GetByteCount(v);
        return SpanWriter.LengthSize(n + 1) + n;
    }

    private static int OptCount(int? count) => count is { } c ? SpanWriter.LengthSize(c + 1) : 1;

    private static void WriteOptBytes(ref SpanWriter w, byte[]? v)
    {
        if (v is null)
        {
            w.Length(0);
            return;
        }
        w.Length(v.Length + 1);
        w.Bytes(v);
    }

    private static void WriteOptString(ref SpanWriter w, string? v)
    {
        if (v is null)
        {
            w.Length(0);
            return;
        }
        w.Length(Utf8.GetByteCount(v) + 1);
        w.Utf8(v);
    }

    private static void WriteOptCount(ref SpanWriter w, int? count) => w.Length(count is { } c ? c + 1 : 0);

    /// <summary>Returns -1 for null.</summary>
    private static int ReadOptCount(ref SpanReader r, string field, int minItemBytes = 1) =>
        r.Count(field, minItemBytes, biasedByOne: true);

    private static byte[]? ReadOptBytes(ref SpanReader r, string field)
    {
        var n = r.Length(field);
        return n == 0 ? null : r.Bytes(n - 1, field).ToArray();
    }

    private static string? ReadOptString(ref SpanReader r, string field, StringPool? names)
    {
        var n = r.Length(field);
        if (n == 0)
        {
            return null;
        }
        var bytes = r.Bytes(n - 1, field);
        return names is null ? DecodeUtf8(bytes, field) : names.Get(bytes, field);
    }

    internal static string DecodeUtf8(ReadOnlySpan<byte> bytes, string field)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"'{field}' is not valid UTF-8");
        }
    }
}

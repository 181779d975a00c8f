using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Core.Tests.Baseline;

public class FileRecordCodecTests
{
    internal static FileRecord Full() => new()
    {
        Path = [(byte)'/', (byte)'t', 0xff, 0xfe, (byte)'/', 0xc3, 0x28, (byte)'x'],
        Type = FileType.Symlink,
        Mode = 0xfff,
        Uid = uint.MaxValue,
        Gid = 4242,
        Owner = "jürgen",
        Group = null,
        Size = long.MaxValue,
        MtimeNs = -1,
        CtimeNs = long.MinValue,
        Inode = ulong.MaxValue,
        Device = 0x0803,
        LinkCount = 7,
        SymlinkTarget = [0x80, (byte)'.', (byte)'.', 0x00, 0xff],
        HashStatus = HashStatus.Unstable,
        Hashes = [new byte[32], null, [1, 2, 3], null, Enumerable.Range(0, 16).Select(i => (byte)i).ToArray()],
        Xattrs = [new("security.selinux", "system_u:object_r:etc_t:s0\0"u8.ToArray()), new("user.empty", []), new("user.bin", [0xff, 0x00])],
    };

    [Fact]
    public void RoundTripsEveryField()
    {
        var record = Full();
        var decoded = FileRecordCodec.Decode(FileRecordCodec.Encode(record));
        TestRecords.AssertEqual(record, decoded);
    }

    [Fact]
    public void RoundTripsNullsAndEmpties()
    {
        var minimal = new FileRecord { Path = [] };
        TestRecords.AssertEqual(minimal, FileRecordCodec.Decode(FileRecordCodec.Encode(minimal)));
        var empties = new FileRecord { Path = "/"u8.ToArray(), Owner = "", Group = "", SymlinkTarget = [], Hashes = [], Xattrs = [] };
        var decoded = FileRecordCodec.Decode(FileRecordCodec.Encode(empties));
        TestRecords.AssertEqual(empties, decoded);
        Assert.NotNull(decoded.Hashes);
        Assert.NotNull(decoded.SymlinkTarget);
        Assert.Equal("", decoded.Owner);
    }

    [Fact]
    public void EncodedLengthMatchesBytesWritten()
    {
        var record = Full();
        var buffer = new byte[FileRecordCodec.GetEncodedLength(record) + 10];
        Assert.Equal(FileRecordCodec.GetEncodedLength(record), FileRecordCodec.Encode(record, buffer));
    }

    [Fact]
    public void EveryTruncationIsAFormatException()
    {
        var bytes = FileRecordCodec.Encode(Full());
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<FormatException>(() => FileRecordCodec.Decode(bytes.AsSpan(0, length)));
        }
    }

    [Fact]
    public void TrailingBytesAreRejected()
    {
        var bytes = FileRecordCodec.Encode(Full());
        Assert.Throws<FormatException>(() => FileRecordCodec.Decode([.. bytes, 0]));
    }

    [Fact]
    public void UnknownVersionIsRejected()
    {
        var bytes = FileRecordCodec.Encode(Full());
        bytes[0] = 99;
        var e = Assert.Throws<FormatException>(() => FileRecordCodec.Decode(bytes));
        Assert.Contains("version 99", e.Message);
    }

    [Fact]
    public void HugeLengthsAreRejectedWithoutAllocating()
    {
        // version 1, then a path length of int.MaxValue as a varint
        byte[] bytes = [1, 0xff, 0xff, 0xff, 0xff, 0x07, (byte)'/'];
        Assert.Throws<FormatException>(() => FileRecordCodec.Decode(bytes));
        // a varint longer than five bytes
        Assert.Throws<FormatException>(() => FileRecordCodec.Decode([1, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
    }

    [Fact]
    public void RandomCorruptionNeverEscapesAsAnythingButFormatException()
    {
        var original = FileRecordCodec.Encode(Full());
        var random = new Random(12345);
        var rejected = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = (byte[])original.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }
            try
            {
                FileRecordCodec.Decode(bytes);
            }
            catch (FormatException)
            {
                rejected++;
            }
        }
        Assert.True(rejected > 1000, $"only {rejected} of 20000 corruptions were rejected");
    }
}

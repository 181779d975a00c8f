using System.Reflection;
using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Core.Tests.Baseline;

/// <summary>The two layouts that keep a million records small, and that they lose nothing.</summary>
public class CompactRecordTests
{
    private static object? OwnershipOf(FileRecord record) =>
        typeof(FileRecord).GetField("_ownership", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(record);

    [Fact]
    public void Records_with_the_same_owner_group_and_device_share_one_ownership_and_keep_each_value()
    {
        var decoded = Enumerable.Range(0, 3)
            .Select(i => FileRecordCodec.Decode(FileRecordCodec.Encode(new FileRecord
            {
                Path = System.Text.Encoding.UTF8.GetBytes($"/etc/f{i}"),
                Uid = 1000,
                Gid = 1001,
                Owner = "alice",
                Group = "staff",
                Device = 0x0803,
            })))
            .ToList();
        var other = FileRecordCodec.Decode(FileRecordCodec.Encode(new FileRecord
        {
            Path = "/etc/g"u8.ToArray(),
            Uid = 1000,
            Gid = 1001,
            Owner = "alice",
            Group = "staff",
            Device = 0x0804,
        }));

        Assert.All(decoded, r => Assert.Same(OwnershipOf(decoded[0]), OwnershipOf(r)));
        Assert.NotSame(OwnershipOf(decoded[0]), OwnershipOf(other));
        Assert.All(decoded, r => Assert.Equal((1000u, 1001u, "alice", "staff", 0x0803ul), (r.Uid, r.Gid, r.Owner, r.Group, r.Device)));
        Assert.Equal(0x0804ul, other.Device);
    }

    [Fact]
    public void Setting_one_of_the_five_keeps_the_other_four()
    {
        var record = new FileRecord { Path = "/x"u8.ToArray(), Uid = 7, Gid = 8, Owner = "o", Group = "g", Device = 9 };
        var edited = record.With(b => b.Gid = 80);

        Assert.Equal((7u, 80u, "o", "g", 9ul), (edited.Uid, edited.Gid, edited.Owner, edited.Group, edited.Device));
        Assert.Equal((7u, 8u, "o", "g", 9ul), (record.Uid, record.Gid, record.Owner, record.Group, record.Device));
        var root = new FileRecord { Path = "/r"u8.ToArray() };
        Assert.Equal((0u, 0u, null, null, 0ul), (root.Uid, root.Gid, root.Owner, root.Group, root.Device));
    }

    [Fact]
    public void An_update_is_the_record_or_the_path_and_refuses_the_record_of_another_path()
    {
        var record = new FileRecord { Path = "/etc/passwd"u8.ToArray(), Size = 5 };
        var upsert = new BaselineUpdate("/etc/passwd"u8.ToArray(), record);
        var (path, carried) = upsert;
        Assert.Same(record, carried);
        Assert.Same(record.Path, path);

        var gone = "/etc/shadow"u8.ToArray();
        var delete = BaselineUpdate.Delete(gone);
        Assert.Same(gone, delete.Path);
        Assert.Null(delete.Record);

        var e = Assert.Throws<ArgumentException>(() => new BaselineUpdate("/etc/group"u8.ToArray(), record));
        Assert.Contains("/etc/group", e.Message);
        Assert.Contains("/etc/passwd", e.Message);
    }
}

using Fim.Core.Model;

namespace Fim.Core.Native;

/// <summary>The stat fields the engine records, decoded from statx.</summary>
internal readonly record struct FileStat(
    FileType Type, uint Mode, uint Uid, uint Gid, long Size, long MtimeNs, long CtimeNs,
    ulong Inode, ulong Device, uint LinkCount)
{
    private const int S_IFMT = 0xF000;

    public static FileStat From(in StatxBuffer b)
    {
        var type = (b.Mode & S_IFMT) switch
        {
            0x8000 => FileType.Regular,
            0x4000 => FileType.Directory,
            0xA000 => FileType.Symlink,
            0x1000 => FileType.Fifo,
            0xC000 => FileType.Socket,
            0x2000 => FileType.CharDevice,
            0x6000 => FileType.BlockDevice,
            _ => FileType.Unknown,
        };
        return new FileStat(
            type, (uint)(b.Mode & 0xFFF), b.Uid, b.Gid, (long)b.Size,
            b.MtimeSec * 1_000_000_000 + b.MtimeNsec, b.CtimeSec * 1_000_000_000 + b.CtimeNsec,
            b.Ino, ((ulong)b.DevMajor << 32) | b.DevMinor, b.Nlink);
    }

    /// <summary>True when content could have changed between two observations of the same file.</summary>
    public bool ContentMayDiffer(in FileStat other) =>
        Size != other.Size || MtimeNs != other.MtimeNs || CtimeNs != other.CtimeNs ||
        Inode != other.Inode || Device != other.Device;
}

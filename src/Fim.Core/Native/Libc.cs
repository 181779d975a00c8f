using System.Runtime.InteropServices;

namespace Fim.Core.Native;

/// <summary>
/// The one native layer: the libc calls the scanner, the baseline store and the realtime watcher need that .NET
/// does not expose: statx (inode, link count, ctime), getdents64 and *at() calls on byte names, so non-UTF-8 names
/// and paths longer than PATH_MAX work. Calls return -1 and leave the errno in <see cref="LastError"/>; the
/// <see cref="Posix"/> wrappers return that errno (0 on success) and retry EINTR. Only calls that belong to one
/// subsystem alone (inotify, poll) are declared next to it, with the same conventions.
/// </summary>
internal static unsafe partial class Libc
{
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_EMPTY_PATH = 0x1000;
    public const uint STATX_BASIC_STATS = 0x7ff;

    public const int O_RDONLY = 0;
    public const int O_NOCTTY = 0x100;
    public const int O_NONBLOCK = 0x800;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_NOATIME = 0x40000;
    public const int O_CLOEXEC = 0x80000;
    public const int O_PATH = 0x200000;

    public const int POSIX_FADV_SEQUENTIAL = 2;
    public const int POSIX_FADV_NOREUSE = 5;

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int ENAMETOOLONG = 36;
    public const int ELOOP = 40;
    public const int ERANGE = 34;

    [LibraryImport("libc")]
    public static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int statx(int dirfd, byte* pathname, int flags, uint mask, StatxBuffer* buf);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int openat(int dirfd, byte* pathname, int flags, int mode);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint getdents64(int fd, byte* dirp, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint readlinkat(int dirfd, byte* pathname, byte* buf, nint bufsiz);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_fadvise(int fd, long offset, long len, int advice);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getpwuid_r(uint uid, byte* pwd, byte* buf, nint buflen, byte** result);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getgrgid_r(uint gid, byte* grp, byte* buf, nint buflen, byte** result);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint llistxattr(byte* path, byte* list, nint size);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint lgetxattr(byte* path, byte* name, byte* value, nint size);

    /// <summary>struct statfs; only f_type (a long at offset 0 on every 64-bit Linux) is read.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int statfs(byte* path, byte* buf);

    public const int StatfsBufferSize = 256;

    public static int LastError => Marshal.GetLastPInvokeError();

    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}

/// <summary>struct statx; its layout is the same on every Linux architecture.</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct StatxBuffer
{
    [FieldOffset(0)] public uint Mask;
    [FieldOffset(16)] public uint Nlink;
    [FieldOffset(20)] public uint Uid;
    [FieldOffset(24)] public uint Gid;
    [FieldOffset(28)] public ushort Mode;
    [FieldOffset(32)] public ulong Ino;
    [FieldOffset(40)] public ulong Size;
    [FieldOffset(48)] public ulong Blocks;
    [FieldOffset(96)] public long CtimeSec;
    [FieldOffset(104)] public uint CtimeNsec;
    [FieldOffset(112)] public long MtimeSec;
    [FieldOffset(120)] public uint MtimeNsec;
    [FieldOffset(136)] public uint DevMajor;
    [FieldOffset(140)] public uint DevMinor;
}

using System.Runtime.InteropServices;

namespace Fim.Agent.Realtime;

/// <summary>The libc calls the watcher needs. Paths are passed as NUL-terminated bytes so non-UTF-8 names survive.</summary>
internal static unsafe partial class InotifyNative
{
    public const int InNonBlock = 0x800;
    public const int InCloExec = 0x80000;

    public const uint InModify = 0x00000002;
    public const uint InAttrib = 0x00000004;
    public const uint InCloseWrite = 0x00000008;
    public const uint InMovedFrom = 0x00000040;
    public const uint InMovedTo = 0x00000080;
    public const uint InCreate = 0x00000100;
    public const uint InDelete = 0x00000200;
    public const uint InDeleteSelf = 0x00000400;
    public const uint InMoveSelf = 0x00000800;
    public const uint InUnmount = 0x00002000;
    public const uint InQOverflow = 0x00004000;
    public const uint InIgnored = 0x00008000;
    public const uint InOnlyDir = 0x01000000;
    public const uint InDontFollow = 0x02000000;
    public const uint InExclUnlink = 0x04000000;
    public const uint InIsDir = 0x40000000;

    public const uint DirectoryMask = InCloseWrite | InAttrib | InCreate | InDelete | InMovedFrom | InMovedTo
        | InDeleteSelf | InMoveSelf | InModify | InDontFollow | InOnlyDir | InExclUnlink;

    public const short PollIn = 0x0001;

    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int ENoEnt = 2;
    public const int ENotDir = 20;
    public const int ELoop = 40;
    public const int ENoSpc = 28;
    public const int EInval = 22;

    public const int ORdOnly = 0;
    public const int ODirectory = 0x10000;
    public const int ONoFollow = 0x20000;
    public const int OCloExec = 0x80000;

    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const uint StatxType = 0x1;

    public const byte DtUnknown = 0;
    public const byte DtDir = 4;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    /// <summary>struct statx (linux/stat.h): the same layout on every architecture, unlike struct stat.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct Statx
    {
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(136)] public uint DevMajor;
        [FieldOffset(140)] public uint DevMinor;
    }

    [LibraryImport("libc", EntryPoint = "inotify_init1", SetLastError = true)]
    public static partial int InotifyInit1(int flags);

    [LibraryImport("libc", EntryPoint = "inotify_add_watch", SetLastError = true)]
    public static partial int InotifyAddWatch(int fd, byte* path, uint mask);

    [LibraryImport("libc", EntryPoint = "inotify_rm_watch", SetLastError = true)]
    public static partial int InotifyRmWatch(int fd, int wd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    public static partial int Open(byte* path, int flags);

    [LibraryImport("libc", EntryPoint = "fdopendir", SetLastError = true)]
    public static partial nint FdOpenDir(int fd);

    [LibraryImport("libc", EntryPoint = "readdir64", SetLastError = true)]
    public static partial nint ReadDir64(nint dir);

    [LibraryImport("libc", EntryPoint = "closedir", SetLastError = true)]
    public static partial int CloseDir(nint dir);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    public static partial int StatX(int dirFd, byte* path, int flags, uint mask, Statx* result);

    /// <summary>The path with a terminating NUL, as the C calls expect.</summary>
    public static byte[] ToCString(ReadOnlySpan<byte> path)
    {
        var result = new byte[path.Length + 1];
        path.CopyTo(result);
        return result;
    }
}

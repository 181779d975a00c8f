using System.Runtime.InteropServices;

namespace Fim.Agent.WhoData;

/// <summary>
/// fanotify and the handle calls its FID records need, with the conventions of the engine's native layer
/// (<see cref="Fim.Core.Native.Libc"/>): -1 with the errno in Libc.LastError.
/// </summary>
internal static unsafe partial class FanotifyNative
{
    public const uint FanCloexec = 0x1;
    public const uint FanNonblock = 0x2;
    public const uint FanClassNotif = 0x0;
    public const uint FanReportPidfd = 0x80;
    public const uint FanReportDirFid = 0x400;
    public const uint FanReportName = 0x800;
    public const uint FanReportDfidName = FanReportDirFid | FanReportName;

    public const uint FanMarkAdd = 0x1;
    public const uint FanMarkFilesystem = 0x100;

    public const ulong FanModify = 0x2;
    public const ulong FanAttrib = 0x4;
    public const ulong FanCloseWrite = 0x8;
    public const ulong FanMovedFrom = 0x40;
    public const ulong FanMovedTo = 0x80;
    public const ulong FanCreate = 0x100;
    public const ulong FanDelete = 0x200;
    public const ulong FanQOverflow = 0x4000;
    public const ulong FanOnDir = 0x40000000;

    public const ulong WatchMask = FanModify | FanAttrib | FanCloseWrite | FanMovedFrom | FanMovedTo | FanCreate | FanDelete | FanOnDir;

    public const byte InfoDfidName = 2;
    public const byte InfoDfid = 3;
    public const byte InfoPidfd = 4;

    /// <summary>The writer had been reaped when the event was read.</summary>
    public const int NoPidfd = -1;

    public const int OLargeFile = 0x8000;

    [LibraryImport("libc", EntryPoint = "fanotify_init", SetLastError = true)]
    public static partial int FanotifyInit(uint flags, uint eventFlags);

    [LibraryImport("libc", EntryPoint = "fanotify_mark", SetLastError = true)]
    public static partial int FanotifyMark(int fd, uint flags, ulong mask, int dirFd, byte* path);

    [LibraryImport("libc", EntryPoint = "open_by_handle_at", SetLastError = true)]
    public static partial int OpenByHandleAt(int mountFd, byte* handle, int flags);

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint RealPath(string path, byte* resolved);

    /// <summary>realpath(3): every symlink resolved; null when the path cannot be resolved.</summary>
    public static string? RealPath(string path)
    {
        var buf = stackalloc byte[4097];
        return RealPath(path, buf) == 0 ? null : Marshal.PtrToStringUTF8((nint)buf);
    }

    [LibraryImport("libc", EntryPoint = "fstatfs", SetLastError = true)]
    public static partial int FStatFs(int fd, byte* buf);
}

using System.Runtime.InteropServices;

namespace Fim.Agent.Realtime;

/// <summary>
/// The calls only the watcher needs (inotify, poll), with the conventions of the engine's native layer
/// (<see cref="Fim.Core.Native.Libc"/>): -1 with the errno in Libc.LastError. open, read, close, statx, getdents64 and
/// the errno values come from that layer.
/// </summary>
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

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    [LibraryImport("libc", EntryPoint = "inotify_init1", SetLastError = true)]
    public static partial int InotifyInit1(int flags);

    [LibraryImport("libc", EntryPoint = "inotify_add_watch", SetLastError = true)]
    public static partial int InotifyAddWatch(int fd, byte* path, uint mask);

    [LibraryImport("libc", EntryPoint = "inotify_rm_watch", SetLastError = true)]
    public static partial int InotifyRmWatch(int fd, int wd);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);
}

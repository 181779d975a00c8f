using System.Runtime.InteropServices;

namespace Fim.Agent.Realtime;

/// <summary>
/// Lists subdirectories with opendir/readdir so names stay exact bytes (.NET's Directory APIs mangle non-UTF-8
/// names). Symlinks are never followed: the directory is opened with O_NOFOLLOW and symlinked entries are not
/// directories here.
/// </summary>
internal static unsafe class DirectoryReader
{
    private const int DirentTypeOffset = 18;
    private const int DirentNameOffset = 19;
    private const ushort FileTypeMask = 0xF000;
    private const ushort DirectoryType = 0x4000;

    /// <summary>Appends the subdirectory names of <paramref name="directory"/> to <paramref name="into"/>; returns 0 or the errno of opening it.</summary>
    public static int ListSubdirectories(byte[] directory, List<Subdirectory> into, bool withDevice)
    {
        var cPath = InotifyNative.ToCString(directory);
        int fd;
        fixed (byte* p = cPath)
        {
            fd = InotifyNative.Open(p, InotifyNative.ORdOnly | InotifyNative.ODirectory | InotifyNative.ONoFollow | InotifyNative.OCloExec);
        }
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError();
        }
        var dir = InotifyNative.FdOpenDir(fd);
        if (dir == 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            InotifyNative.Close(fd);
            return errno;
        }
        try
        {
            nint entry;
            while ((entry = InotifyNative.ReadDir64(dir)) != 0)
            {
                var type = *((byte*)entry + DirentTypeOffset);
                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)entry + DirentNameOffset);
                if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
                {
                    continue;
                }
                if (type != InotifyNative.DtDir && type != InotifyNative.DtUnknown)
                {
                    continue;
                }
                ulong device = 0;
                if (type == InotifyNative.DtUnknown || withDevice)
                {
                    if (!TryStat(fd, name, out var isDirectory, out device) || !isDirectory)
                    {
                        continue;
                    }
                }
                into.Add(new Subdirectory(name.ToArray(), device));
            }
            // Errors from readdir (e.g. EIO) end the listing early; the caller watches what was found.
            return 0;
        }
        finally
        {
            InotifyNative.CloseDir(dir);
        }
    }

    /// <summary>The device of <paramref name="path"/> itself (not a symlink's target); false when it cannot be stat-ed.</summary>
    public static bool TryGetDevice(byte[] path, out ulong device)
    {
        return TryStat(InotifyNative.AtFdCwd, path, out _, out device);
    }

    private static bool TryStat(int dirFd, ReadOnlySpan<byte> name, out bool isDirectory, out ulong device)
    {
        var cName = name.Length < 512 ? stackalloc byte[name.Length + 1] : new byte[name.Length + 1];
        name.CopyTo(cName);
        cName[^1] = 0;
        InotifyNative.Statx stx;
        int rc;
        fixed (byte* p = cName)
        {
            rc = InotifyNative.StatX(dirFd, p, InotifyNative.AtSymlinkNoFollow, InotifyNative.StatxType, &stx);
        }
        if (rc != 0)
        {
            isDirectory = false;
            device = 0;
            return false;
        }
        isDirectory = (stx.Mode & FileTypeMask) == DirectoryType;
        device = ((ulong)stx.DevMajor << 32) | stx.DevMinor;
        return true;
    }
}

internal readonly record struct Subdirectory(byte[] Name, ulong Device);

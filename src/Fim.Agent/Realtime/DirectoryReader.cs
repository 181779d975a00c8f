using System.Buffers;
using Fim.Core.Model;
using Fim.Core.Native;

namespace Fim.Agent.Realtime;

/// <summary>
/// Lists subdirectories through the engine's native layer (getdents64, statx), so names stay exact bytes (.NET's
/// Directory APIs mangle non-UTF-8 names). Symlinks are never followed: the directory is opened with O_NOFOLLOW and
/// symlinked entries are not directories here.
/// </summary>
internal static class DirectoryReader
{
    private const int BufferSize = 32 * 1024;

    /// <summary>Appends the subdirectory names of <paramref name="directory"/> to <paramref name="into"/>; returns 0 or the errno of opening it.</summary>
    public static int ListSubdirectories(byte[] directory, List<Subdirectory> into, bool withDevice)
    {
        var err = Posix.OpenPath(directory, Libc.O_RDONLY | Libc.O_DIRECTORY, out var fd);
        if (err != 0)
        {
            return err;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            // Errors from getdents64 (e.g. EIO) end the listing early; the caller watches what was found.
            while (Posix.GetDents(fd, buffer, out var filled) == 0 && filled > 0)
            {
                foreach (var entry in new DirectoryEntries(buffer.AsSpan(0, filled)))
                {
                    if (entry.IsDotOrDotDot || (entry.Type != DirectoryEntry.DtDir && entry.Type != DirectoryEntry.DtUnknown))
                    {
                        continue;
                    }
                    ulong device = 0;
                    if (entry.Type == DirectoryEntry.DtUnknown || withDevice)
                    {
                        if (Posix.Statx(fd, entry.NameZ, followSymlinks: false, out var stat) != 0 || stat.Type != FileType.Directory)
                        {
                            continue;
                        }
                        device = stat.Device;
                    }
                    into.Add(new Subdirectory(entry.Name.ToArray(), device));
                }
            }
            return 0;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Libc.close(fd);
        }
    }

    /// <summary>The device of <paramref name="path"/> itself (not a symlink's target); false when it cannot be stat-ed.</summary>
    public static bool TryGetDevice(byte[] path, out ulong device)
    {
        var ok = Posix.StatPath(path, followSymlinks: false, out var stat) == 0;
        device = stat.Device;
        return ok;
    }
}

internal readonly record struct Subdirectory(byte[] Name, ulong Device);

using System.Runtime.InteropServices;
using System.Text;

namespace Fim.Core.Native;

/// <summary>An errno with the call and path it came from.</summary>
public sealed class PosixException(int errno, string operation, string path)
    : IOException($"{operation} {path}: {Libc.Describe(errno)}")
{
    public int Errno { get; } = errno;
    public string Path { get; } = path;
}

/// <summary>Safe wrappers over <see cref="Libc"/> for byte paths.</summary>
internal static unsafe class Posix
{
    // Absolute paths at or above this length are opened component by component, so depth never fails on ENAMETOOLONG.
    private const int LongPathThreshold = 4000;

    public static int Statx(int dirFd, ReadOnlySpan<byte> nameZ, bool followSymlinks, out FileStat stat)
    {
        StatxBuffer buf;
        fixed (byte* p = nameZ)
        {
            var flags = followSymlinks ? 0 : Libc.AT_SYMLINK_NOFOLLOW;
            if (nameZ.Length <= 1)
            {
                flags |= Libc.AT_EMPTY_PATH;
            }
            if (Libc.statx(dirFd, p, flags, Libc.STATX_BASIC_STATS, &buf) != 0)
            {
                stat = default;
                return Libc.LastError;
            }
        }
        stat = FileStat.From(buf);
        return 0;
    }

    public static int FStat(int fd, out FileStat stat) => Statx(fd, "\0"u8, false, out stat);

    /// <summary>lstat (or stat) of an absolute path of any length.</summary>
    public static int StatPath(ReadOnlySpan<byte> path, bool followSymlinks, out FileStat stat)
    {
        if (path.Length < LongPathThreshold)
        {
            return Statx(Libc.AT_FDCWD, Z(path), followSymlinks, out stat);
        }
        var err = OpenParent(path, out var dirFd, out var name);
        if (err != 0)
        {
            stat = default;
            return err;
        }
        try
        {
            return Statx(dirFd, Z(name), followSymlinks, out stat);
        }
        finally
        {
            Libc.close(dirFd);
        }
    }

    public static int OpenAt(int dirFd, ReadOnlySpan<byte> nameZ, int flags, out int fd)
    {
        fixed (byte* p = nameZ)
        {
            while (true)
            {
                fd = Libc.openat(dirFd, p, flags | Libc.O_CLOEXEC, 0);
                if (fd >= 0)
                {
                    return 0;
                }
                var err = Libc.LastError;
                if (err != Libc.EINTR)
                {
                    return err;
                }
            }
        }
    }

    /// <summary>
    /// One getdents64 call into <paramref name="buffer"/>, retried on EINTR; <paramref name="filled"/> is 0 at the end
    /// of the directory. Walk the records with <see cref="DirectoryEntries"/>.
    /// </summary>
    /// <returns>0 or the errno.</returns>
    public static int GetDents(int fd, Span<byte> buffer, out int filled)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Libc.getdents64(fd, p, buffer.Length);
                if (n >= 0)
                {
                    filled = (int)n;
                    return 0;
                }
                var err = Libc.LastError;
                if (err != Libc.EINTR)
                {
                    filled = 0;
                    return err;
                }
            }
        }
    }

    /// <summary>Opens a file or directory by absolute path without following a final symlink; long paths walk from '/'.</summary>
    public static int OpenPath(ReadOnlySpan<byte> path, int flags, out int fd)
    {
        if (path.Length < LongPathThreshold)
        {
            return OpenAt(Libc.AT_FDCWD, Z(path), flags | Libc.O_NOFOLLOW, out fd);
        }
        var err = OpenParent(path, out var dirFd, out var name);
        if (err != 0)
        {
            fd = -1;
            return err;
        }
        try
        {
            return OpenAt(dirFd, Z(name), flags | Libc.O_NOFOLLOW, out fd);
        }
        finally
        {
            Libc.close(dirFd);
        }
    }

    /// <summary>Opens the parent directory of a long absolute path one component at a time (never following symlinks).</summary>
    private static int OpenParent(ReadOnlySpan<byte> path, out int dirFd, out ReadOnlySpan<byte> name)
    {
        name = default;
        var err = OpenAt(Libc.AT_FDCWD, "/\0"u8, Libc.O_PATH | Libc.O_DIRECTORY, out dirFd);
        if (err != 0)
        {
            return err;
        }
        var rest = path.TrimStart((byte)'/');
        while (true)
        {
            var slash = rest.IndexOf((byte)'/');
            if (slash < 0)
            {
                name = rest;
                return 0;
            }
            var component = rest[..slash];
            rest = rest[(slash + 1)..];
            if (component.IsEmpty)
            {
                continue;
            }
            err = OpenAt(dirFd, Z(component), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, out var next);
            Libc.close(dirFd);
            if (err != 0)
            {
                dirFd = -1;
                return err;
            }
            dirFd = next;
        }
    }

    public static byte[]? ReadLinkAt(int dirFd, ReadOnlySpan<byte> nameZ)
    {
        Span<byte> buf = stackalloc byte[4096];
        fixed (byte* n = nameZ)
        fixed (byte* b = buf)
        {
            var len = Libc.readlinkat(dirFd, n, b, buf.Length);
            return len < 0 ? null : buf[..(int)len].ToArray();
        }
    }

    public static byte[]? ReadLinkPath(ReadOnlySpan<byte> path)
    {
        if (path.Length < LongPathThreshold)
        {
            return ReadLinkAt(Libc.AT_FDCWD, Z(path));
        }
        if (OpenParent(path, out var dirFd, out var name) != 0)
        {
            return null;
        }
        try
        {
            return ReadLinkAt(dirFd, Z(name));
        }
        finally
        {
            Libc.close(dirFd);
        }
    }

    /// <summary>A NUL-terminated copy of a name or path.</summary>
    /// <summary>The file-system type (statfs f_type magic) of the file system holding <paramref name="path"/>, following symlinks.</summary>
    /// <returns>0 or the errno.</returns>
    public static int FileSystemType(ReadOnlySpan<byte> path, out long type)
    {
        var z = Z(path);
        var buf = stackalloc byte[Libc.StatfsBufferSize];
        fixed (byte* p = z)
        {
            while (true)
            {
                if (Libc.statfs(p, buf) == 0)
                {
                    type = *(long*)buf;
                    return 0;
                }
                var err = Libc.LastError;
                if (err != Libc.EINTR)
                {
                    type = 0;
                    return err;
                }
            }
        }
    }

    public static byte[] Z(ReadOnlySpan<byte> s)
    {
        var z = new byte[s.Length + 1];
        s.CopyTo(z);
        return z;
    }

    public static string Display(ReadOnlySpan<byte> path) => Model.PathBytes.ToDisplay(path);

    public static string? UserName(uint uid) => LookupName(uid, isGroup: false);

    public static string? GroupName(uint gid) => LookupName(gid, isGroup: true);

    private static string? LookupName(uint id, bool isGroup)
    {
        var entry = stackalloc byte[128];
        var size = 16 * 1024;
        while (size <= 1024 * 1024)
        {
            var buf = (byte*)NativeMemory.Alloc((nuint)size);
            try
            {
                byte* result = null;
                var rc = isGroup
                    ? Libc.getgrgid_r(id, entry, buf, size, &result)
                    : Libc.getpwuid_r(id, entry, buf, size, &result);
                if (rc == Libc.ERANGE)
                {
                    size *= 4;
                    continue;
                }
                if (rc != 0 || result == null)
                {
                    return null;
                }
                // pw_name and gr_name are the first member of their structs.
                var namePtr = *(byte**)entry;
                return namePtr == null ? null : Marshal.PtrToStringUTF8((nint)namePtr);
            }
            finally
            {
                NativeMemory.Free(buf);
            }
        }
        return null;
    }

    public static List<KeyValuePair<string, byte[]>> ReadXattrs(ReadOnlySpan<byte> path)
    {
        var result = new List<KeyValuePair<string, byte[]>>();
        var pathZ = Z(path);
        fixed (byte* p = pathZ)
        {
            var size = Libc.llistxattr(p, null, 0);
            if (size <= 0)
            {
                return result;
            }
            var list = new byte[size];
            fixed (byte* l = list)
            {
                size = Libc.llistxattr(p, l, size);
                if (size <= 0)
                {
                    return result;
                }
                var start = 0;
                for (var i = 0; i < size; i++)
                {
                    if (list[i] != 0)
                    {
                        continue;
                    }
                    var name = Encoding.UTF8.GetString(list, start, i - start);
                    var vlen = Libc.lgetxattr(p, l + start, null, 0);
                    if (vlen >= 0)
                    {
                        var value = new byte[vlen];
                        fixed (byte* v = value)
                        {
                            vlen = Libc.lgetxattr(p, l + start, v, value.Length);
                        }
                        if (vlen >= 0)
                        {
                            result.Add(new(name, value.AsSpan(0, (int)vlen).ToArray()));
                        }
                    }
                    start = i + 1;
                }
            }
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return result;
    }
}

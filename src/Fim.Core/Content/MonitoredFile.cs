using Fim.Core.Model;
using Fim.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Fim.Core.Content;

/// <summary>
/// Opens a monitored file for reading the way the hasher does (no symlink followed, never blocking on a FIFO swapped
/// in, regular files only) and reads it by offset, counting every byte read.
/// </summary>
internal sealed class MonitoredFile : IDisposable
{
    private readonly SafeFileHandle _handle;

    private MonitoredFile(SafeFileHandle handle, FileStat stat)
    {
        _handle = handle;
        Stat = stat;
    }

    public FileStat Stat { get; }

    public long BytesRead { get; private set; }

    /// <summary>The open file, or null with the errno (EINVAL when it is not a regular file).</summary>
    public static MonitoredFile? Open(byte[] path, out int errno)
    {
        errno = Posix.OpenPath(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_NOCTTY, out var fd);
        if (errno != 0)
        {
            return null;
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Posix.FStat(fd, out var stat) != 0 || stat.Type != FileType.Regular)
        {
            handle.Dispose();
            errno = Libc.EINVAL;
            return null;
        }
        return new MonitoredFile(handle, stat);
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/>; fewer bytes only at the end of the file.</summary>
    public int Read(Span<byte> buffer, long offset)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = RandomAccess.Read(_handle, buffer[total..], offset + total);
            if (n <= 0)
            {
                break;
            }
            total += n;
        }
        BytesRead += total;
        return total;
    }

    /// <summary>The whole content when it is at most <paramref name="cap"/> bytes; null when larger.</summary>
    public byte[]? ReadAll(long cap)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        long offset = 0;
        while (true)
        {
            var n = Read(chunk, offset);
            if (n == 0)
            {
                return buffer.ToArray();
            }
            offset += n;
            if (offset > cap)
            {
                return null;
            }
            buffer.Write(chunk, 0, n);
        }
    }

    public void Dispose() => _handle.Dispose();
}

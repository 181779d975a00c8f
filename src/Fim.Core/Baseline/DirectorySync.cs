using System.Runtime.InteropServices;

namespace Fim.Core.Baseline;

/// <summary>
/// fsync of a directory, which makes a rename or unlink in it durable. .NET cannot open a directory as a file
/// handle (File.OpenHandle refuses it), hence the P/Invoke.
/// </summary>
internal static partial class DirectorySync
{
    private const int O_RDONLY = 0;

    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var flags = O_RDONLY | (OperatingSystem.IsLinux() ? 0x80000 : OperatingSystem.IsMacOS() ? 0x1000000 : 0); // O_CLOEXEC
        var fd = Open(directory, flags);
        if (fd < 0)
        {
            throw Error("open", directory);
        }
        try
        {
            while (Fsync(fd) != 0)
            {
                if (Marshal.GetLastPInvokeError() != Errno.EINTR)
                {
                    throw Error("fsync", directory);
                }
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static IOException Error(string call, string directory)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} of directory {directory} failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

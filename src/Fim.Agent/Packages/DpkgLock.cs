using System.Runtime.InteropServices;
using Fim.Core.Model;
using Fim.Core.Native;

namespace Fim.Agent.Packages;

/// <summary>
/// Whether dpkg is running: dpkg holds a POSIX record lock (fcntl F_SETLK) on var/lib/dpkg/lock for its whole run.
/// F_GETLK asks the kernel who holds it without taking it, so the agent never blocks dpkg (and works on a read-only mount).
/// </summary>
public sealed partial class DpkgLock(string path)
{
    private const int F_GETLK = 5;
    private const short F_WRLCK = 1;
    private const short F_UNLCK = 2;

    public string Path { get; } = path;

    public bool IsHeld()
    {
        if (Posix.OpenPath(PathBytes.FromString(Path), Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.O_NONBLOCK, out var fd) != 0)
        {
            return false;
        }
        try
        {
            var probe = new Flock { Type = F_WRLCK, Whence = 0, Start = 0, Length = 0 };
            return fcntl(fd, F_GETLK, ref probe) == 0 && probe.Type != F_UNLCK;
        }
        finally
        {
            Libc.close(fd);
        }
    }

    /// <summary>struct flock on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int cmd, ref Flock lk);
}

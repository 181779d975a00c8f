using System.Runtime.InteropServices;

namespace Fim.Agent.Tests.Realtime;

/// <summary>Creates entries by byte path, for names that are not valid UTF-8 and so cannot go through .NET's string APIs.</summary>
internal static unsafe partial class NativeFs
{
    public static void MakeDirectory(byte[] path)
    {
        fixed (byte* p = CString(path))
        {
            Check(Mkdir(p, 0x1ED /* 0755 */), "mkdir");
        }
    }

    public static void WriteFile(byte[] path, byte[] content)
    {
        int fd;
        fixed (byte* p = CString(path))
        {
            fd = Open(p, 0x41 | 0x200 /* O_WRONLY|O_CREAT|O_TRUNC */, 0x1A4 /* 0644 */);
        }
        Check(fd, "open");
        fixed (byte* c = content)
        {
            Check((int)Write(fd, c, (nuint)content.Length), "write");
        }
        Check(Close(fd), "close");
    }

    private static byte[] CString(byte[] path)
    {
        var result = new byte[path.Length + 1];
        path.CopyTo(result, 0);
        return result;
    }

    private static void Check(int rc, string call)
    {
        if (rc < 0)
        {
            throw new IOException($"{call} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true)]
    private static partial int Mkdir(byte* path, uint mode);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static partial int Open(byte* path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

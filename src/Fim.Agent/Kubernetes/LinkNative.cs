using System.Runtime.InteropServices;

namespace Fim.Agent.Kubernetes;

/// <summary>rename(2) of a symbolic link itself: File.Move looks through the link (to a /proc/&lt;pid&gt;/root directory) and refuses.</summary>
internal static partial class LinkNative
{
    [LibraryImport("libc", EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Rename(string from, string to);

    public static void Replace(string from, string to)
    {
        if (Rename(from, to) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot rename {from} to {to}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }
}

using System.Runtime.InteropServices;
using Fim.Core.Policy;

namespace Fim.Agent.Platform;

/// <summary>Lowers the agent's CPU and I/O priority so a scan never starves the host.</summary>
public static partial class ProcessPriority
{
    private const int PRIO_PROCESS = 0;
    private const int IOPRIO_WHO_PROCESS = 1;
    private const int IOPRIO_CLASS_SHIFT = 13;
    private const long SYS_ioprio_set = 251; // x86-64

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, uint who, int prio);

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, int which, int who, int ioprio);

    /// <summary>
    /// Applies nice and I/O class to every thread of the process (on Linux both are per thread; threads made
    /// later inherit them from their creator). Returns what could not be applied, or null.
    /// </summary>
    public static string? Apply(int? nice, IoPriorityClass ioClass)
    {
        var problems = new HashSet<string>();
        foreach (var tid in Threads())
        {
            if (nice is { } n && setpriority(PRIO_PROCESS, tid, n) != 0)
            {
                problems.Add($"nice {n}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }
            if (ioClass != IoPriorityClass.Normal && RuntimeInformation.ProcessArchitecture == Architecture.X64)
            {
                var cls = ioClass == IoPriorityClass.Idle ? 3 : 2;
                var data = ioClass == IoPriorityClass.Idle ? 0 : 7;
                if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, (int)tid, (cls << IOPRIO_CLASS_SHIFT) | data) != 0)
                {
                    problems.Add($"io class {ioClass}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
                }
            }
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    private static IEnumerable<uint> Threads()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (uint.TryParse(Path.GetFileName(dir), out var tid))
            {
                yield return tid;
            }
        }
    }
}

using System.Globalization;
using System.Text;

namespace Fim.Agent.WhoData;

/// <summary>Reads a live process's identity from /proc. Callers check, after reading, that the pid still names the same process.</summary>
public static class ProcReader
{
    /// <summary>Start time (clock ticks since boot), parent pid and comm from /proc/&lt;pid&gt;/stat; false when the process is gone.</summary>
    public static bool TryReadStat(string procRoot, int pid, out ulong startTicks, out int ppid, out string comm)
    {
        startTicks = 0;
        ppid = 0;
        comm = "";
        var text = ReadSmall(Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture), "stat"));
        if (text is null)
        {
            return false;
        }
        // "pid (comm) state ppid ... starttime(22nd)": comm may hold spaces and parentheses, so split after the last ')'.
        var open = text.IndexOf('(');
        var close = text.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            return false;
        }
        comm = text[(open + 1)..close];
        var fields = text[(close + 2)..].Split(' ');
        if (fields.Length < 20
            || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out ppid)
            || !ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out startTicks))
        {
            return false;
        }
        return true;
    }

    /// <summary>Everything else about the process (uids, gids, executable, arguments, audit ids); null when it is gone.</summary>
    public static ProcessIdentity? Read(string procRoot, int pid, ulong startTicks, int ppid, string comm)
    {
        var dir = Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture));
        var status = ReadSmall(Path.Combine(dir, "status"));
        if (status is null)
        {
            return null;
        }
        var p = new ProcessIdentity(pid, startTicks) { Ppid = ppid, Comm = comm, Known = true };
        foreach (var line in status.Split('\n'))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal) && Ids(line) is [var uid, var euid, ..])
            {
                p.Uid = uid;
                p.Euid = euid;
            }
            else if (line.StartsWith("Gid:", StringComparison.Ordinal) && Ids(line) is [var gid, ..])
            {
                p.Gid = gid;
            }
        }
        try
        {
            p.Executable = new FileInfo(Path.Combine(dir, "exe")).LinkTarget;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        p.Arguments = ReadBytes(Path.Combine(dir, "cmdline"), 4096);
        p.LoginUid = ReadId(Path.Combine(dir, "loginuid"));
        p.SessionId = ReadId(Path.Combine(dir, "sessionid"));
        p.CgroupText = ReadSmall(Path.Combine(dir, "cgroup"));
        return p;
    }

    private static uint[] Ids(string line) =>
        [.. line[4..].Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries)
            .Select(s => uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : ProcessIdentity.Unset)];

    private static uint ReadId(string path) =>
        ReadSmall(path) is { } s && uint.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : ProcessIdentity.Unset;

    private static string? ReadSmall(string path) => ReadBytes(path, 4096) is { } b ? Encoding.UTF8.GetString(b) : null;

    private static byte[]? ReadBytes(string path, int max)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            var buffer = new byte[max];
            var total = 0;
            int n;
            while (total < max && (n = f.Read(buffer, total, max - total)) > 0)
            {
                total += n;
            }
            return buffer[..total];
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}

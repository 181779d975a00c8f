namespace Fim.Console.Tests;

/// <summary>A running process seen in /proc: its id and its command line (arguments joined by spaces).</summary>
public sealed record ProcessInfo(int Id, string CommandLine)
{
    /// <summary>Whether this very process still runs: its id is there, not a zombie, with the same command line (not a reused id).</summary>
    public bool IsRunning => ProcessTree.Read(Id) is { } now && now.CommandLine == CommandLine && !ProcessTree.IsZombie(Id);
}

/// <summary>The processes under a process, read from /proc (their parents change when a script exits, so read them while it runs).</summary>
public static class ProcessTree
{
    public static IReadOnlyList<ProcessInfo> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Parent(pid) is { } parent)
            {
                parents[pid] = parent;
            }
        }
        var found = new List<ProcessInfo>();
        foreach (var (pid, parent) in parents)
        {
            var p = parent;
            while (p != root && p > 1 && parents.TryGetValue(p, out var up))
            {
                p = up;
            }
            if (p == root && Read(pid) is { } info)
            {
                found.Add(info);
            }
        }
        return found;
    }

    public static ProcessInfo? Read(int pid)
    {
        try
        {
            var raw = File.ReadAllText($"/proc/{pid}/cmdline");
            return new ProcessInfo(pid, raw.TrimEnd('\0').Replace('\0', ' '));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static bool IsZombie(int pid) => Field(pid, 0) == "Z";

    private static int? Parent(int pid) => int.TryParse(Field(pid, 1), out var parent) ? parent : null;

    /// <summary>A field of /proc/PID/stat after the command name (which may hold spaces and parentheses): 0 is the state, 1 the parent.</summary>
    private static string? Field(int pid, int index)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > index ? fields[index] : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

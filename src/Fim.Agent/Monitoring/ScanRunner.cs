using Fim.Agent.Cli;
using Fim.Core.Model;
using Fim.Core.Native;
using Fim.Core.Scanning;

namespace Fim.Agent.Monitoring;

/// <summary>
/// Runs a full scan (not committed) and turns problems with the monitored roots into the errors the CLI promises:
/// a missing root, an unreadable one, a root on a pseudo file system (/proc, /sys, ...).
/// </summary>
public static class ScanRunner
{
    public static ScanResult ScanChecked(MonitorSession session, Scanner scanner, CancellationToken ct, DetectionSource source = DetectionSource.Scan)
    {
        foreach (var rule in session.Policy.Rules)
        {
            var root = rule.RootDisplay;
            var err = Posix.StatPath(rule.Root, followSymlinks: false, out _);
            // A parent the agent may not search hides whether the root exists: that is a permission problem, not "not found".
            if (err is Libc.EACCES or Libc.EPERM)
            {
                throw new AgentException(ExitCodes.PathUnreadable, $"{root}: permission denied (a parent directory cannot be searched)");
            }
            if (PseudoFileSystems.Holding(rule.Root) is { } pseudo)
            {
                throw new AgentException(ExitCodes.InvalidArgument,
                    $"{root} is on a {pseudo} pseudo file system: it holds kernel state, not files, and is never scanned " +
                    "(reading it can block, consume kernel messages or never end). Monitor the files it describes instead");
            }
            // A root that vanished after it was recorded is a deletion to report; one never seen is a mistake to refuse.
            if (err != 0 && !session.HasRecord(rule.Root))
            {
                throw new AgentException(ExitCodes.PathNotFound, $"{root}: no such file or directory");
            }
            if (!session.HasBaseline && Directory.Exists(root) && !CanList(root, out var why))
            {
                throw new AgentException(ExitCodes.PathUnreadable, $"{root}: cannot read directory: {why}");
            }
        }
        return session.Scan(scanner, ct);
    }

    private static bool CanList(string dir, out string why)
    {
        try
        {
            using var e = Directory.EnumerateFileSystemEntries(dir).GetEnumerator();
            e.MoveNext();
            why = "";
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            why = "permission denied";
            return false;
        }
        catch (IOException ex)
        {
            why = ex.Message;
            return false;
        }
    }

    public static string Describe(FileChange change) => $"{change.Kind.ToName()} {change.DisplayPath}";
}

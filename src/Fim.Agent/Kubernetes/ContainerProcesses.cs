using System.Globalization;

namespace Fim.Agent.Kubernetes;

/// <summary>Finds a container's processes by their cgroup, and the container's file system through one of them.</summary>
public sealed class ContainerProcesses(string procRoot = "/proc")
{
    public string ProcRoot { get; } = procRoot;

    /// <summary>The lowest pid whose cgroup names <paramref name="containerId"/>, or null when none runs (yet, or any more).</summary>
    public int? Find(string containerId)
    {
        int? found = null;
        foreach (var dir in Directory.EnumerateDirectories(ProcRoot))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || (found is { } f && pid > f))
            {
                continue;
            }
            if (IsIn(pid, containerId))
            {
                found = pid;
            }
        }
        return found;
    }

    /// <summary>Whether <paramref name="pid"/> is (still) a process of <paramref name="containerId"/>: a reused pid is not.</summary>
    public bool IsIn(int pid, string containerId)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(ProcRoot, pid.ToString(CultureInfo.InvariantCulture), "cgroup"));
            return CgroupIdentity.FromProcCgroup(text)?.ContainerId == containerId;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether the container's file system is reachable through <paramref name="pid"/>: the process is in the container
    /// and has a root (an exiting or zombie process has none, and its mounts are going or gone).
    /// </summary>
    public bool Reaches(int pid, string containerId) => IsIn(pid, containerId) && Directory.Exists(RootOf(pid) + "/");

    /// <summary>The container's root directory as the agent reaches it: /proc/&lt;pid&gt;/root.</summary>
    public string RootOf(int pid) => Path.Combine(ProcRoot, pid.ToString(CultureInfo.InvariantCulture), "root");
}

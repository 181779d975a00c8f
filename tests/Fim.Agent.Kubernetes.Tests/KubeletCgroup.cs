using System.Globalization;

namespace Fim.Agent.Kubernetes.Tests;

/// <summary>
/// A real cgroup named as the kubelet and the runtime name it, with processes moved into it. Dispose moves them
/// back to the hierarchy's root and removes the directories it made (shared parents only when empty), also after a
/// failed test.
/// </summary>
public sealed class KubeletCgroup : IDisposable
{
    public const string UnifiedRoot = "/sys/fs/cgroup/unified";
    public const string PidsV1Root = "/sys/fs/cgroup/pids";

    private readonly string _root;
    private readonly List<string> _created = [];

    private KubeletCgroup(string root, string relative)
    {
        _root = root;
        Relative = "/" + relative;
        var dir = root;
        foreach (var segment in relative.Split('/'))
        {
            dir = Path.Combine(dir, segment);
            if (!System.IO.Directory.Exists(dir))
            {
                System.IO.Directory.CreateDirectory(dir);
                _created.Add(dir);
            }
        }
        Directory = dir;
    }

    /// <summary>The cgroup's directory.</summary>
    public string Directory { get; }

    /// <summary>The path as /proc/&lt;pid&gt;/cgroup shows it.</summary>
    public string Relative { get; }

    public static string NewPodUid() => Guid.NewGuid().ToString();

    public static string NewContainerId() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    /// <summary>systemd driver, cgroup v2, containerd (or CRI-O with <paramref name="scopePrefix"/> "crio").</summary>
    public static KubeletCgroup SystemdV2(string podUid, string containerId, string scopePrefix = "cri-containerd", string qos = "burstable") =>
        new(UnifiedRoot, $"kubepods.slice/kubepods-{qos}.slice/kubepods-{qos}-pod{podUid.Replace('-', '_')}.slice/{scopePrefix}-{containerId}.scope");

    /// <summary>cgroupfs driver, cgroup v1 (the pids hierarchy): /kubepods/&lt;qos&gt;/pod&lt;uid&gt;/&lt;id&gt;.</summary>
    public static KubeletCgroup CgroupfsV1(string podUid, string containerId, string qos = "besteffort") =>
        new(PidsV1Root, $"kubepods/{qos}/pod{podUid}/{containerId}");

    public void Add(int pid) => File.WriteAllText(Path.Combine(Directory, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));

    public void Dispose()
    {
        try
        {
            foreach (var pid in File.ReadAllLines(Path.Combine(Directory, "cgroup.procs")).Where(l => l.Length > 0))
            {
                try
                {
                    File.WriteAllText(Path.Combine(_root, "cgroup.procs"), pid);
                }
                catch (IOException)
                {
                    // The process exited meanwhile.
                }
            }
        }
        catch (IOException)
        {
        }
        for (var i = _created.Count - 1; i >= 0; i--)
        {
            // An empty cgroup goes with rmdir; one with children (another test's) stays.
            if (System.IO.Directory.Exists(_created[i]) && System.IO.Directory.EnumerateDirectories(_created[i]).Any())
            {
                continue;
            }
            for (var attempt = 0; attempt < 50 && System.IO.Directory.Exists(_created[i]); attempt++)
            {
                try
                {
                    System.IO.Directory.Delete(_created[i]);
                }
                catch (IOException) when (attempt < 49)
                {
                    // EBUSY while a moved-out process is still being accounted; a few ms settle it.
                    Thread.Sleep(20);
                }
                catch (IOException)
                {
                }
            }
        }
    }
}

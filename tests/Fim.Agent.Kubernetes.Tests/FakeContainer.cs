using Fim.Testing;

namespace Fim.Agent.Kubernetes.Tests;

/// <summary>
/// A container without a container engine: its own mount and pid namespaces (unshare), an overlayfs root over a
/// lower layer the test writes, the host's /usr bound in so a shell runs, chroot, all inside a cgroup named as the
/// kubelet names a container's. Only the container's process stays in that cgroup, as with a real runtime. Killing
/// it ends the mount namespace, which takes the mounts with it.
/// </summary>
public sealed class FakeContainer : IDisposable
{
    private readonly ChildProcess _process;

    public FakeContainer(string dir, string podUid, string containerId, IReadOnlyDictionary<string, string> lowerFiles)
    {
        ContainerId = containerId;
        var lower = Path.Combine(dir, "lower");
        var upper = Path.Combine(dir, $"upper-{containerId[..8]}");
        var work = Path.Combine(dir, $"work-{containerId[..8]}");
        var merged = Path.Combine(dir, $"merged-{containerId[..8]}");
        foreach (var d in new[] { lower, upper, work, merged, Path.Combine(lower, "usr") })
        {
            Directory.CreateDirectory(d);
        }
        foreach (var link in new[] { "bin", "lib", "lib64", "sbin" })
        {
            if (!Path.Exists(Path.Combine(lower, link)))
            {
                File.CreateSymbolicLink(Path.Combine(lower, link), $"usr/{link}");
            }
        }
        // The image: written once, so a restarted container finds it as it was.
        foreach (var (path, content) in lowerFiles.Where(f => !File.Exists(Path.Combine(lower, f.Key))))
        {
            var file = Path.Combine(lower, path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, content);
        }
        Cgroup = KubeletCgroup.SystemdV2(podUid, containerId);
        try
        {
            // Test-made paths only; the shell joins the cgroup and execs unshare, whose forked child becomes the container.
            var inside = $"mount -t overlay overlay -o lowerdir={lower},upperdir={upper},workdir={work} {merged} && mount --rbind /usr {merged}/usr && exec chroot {merged} /bin/sh -c 'echo container-ready; exec sleep 3600'";
            _process = new ChildProcess("sh", ["-c", $"echo $$ > {Cgroup.Directory}/cgroup.procs && exec unshare --mount --pid --fork --propagation private sh -c \"{inside}\""], name: "container");
            _process.AwaitLog("container-ready");
            // unshare itself waits outside the container's root: out of the container's cgroup with it.
            File.WriteAllText(Path.Combine(KubeletCgroup.UnifiedRoot, "cgroup.procs"), _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Pid = int.Parse(File.ReadAllLines(Path.Combine(Cgroup.Directory, "cgroup.procs")).Single(l => l.Length > 0), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch
        {
            _process?.Dispose();
            Cgroup.Dispose();
            throw;
        }
    }

    public string ContainerId { get; }

    public KubeletCgroup Cgroup { get; }

    /// <summary>The container's process (pid 1 inside), as the host sees it.</summary>
    public int Pid { get; }

    /// <summary>Runs a shell command inside the container (its mount namespace and root), as a process in it would.</summary>
    public void Exec(string command)
    {
        var result = ChildProcess.Run("nsenter", ["--target", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--mount", "--root", "--wd", "/bin/sh", "-c", command]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"nsenter into {Pid} failed: {result}");
        }
    }

    public void Dispose()
    {
        _process.Kill();
        _process.Dispose();
        Cgroup.Dispose();
    }
}

using Fim.Hostile.Tests.Support;

namespace Fim.Hostile.Tests;

/// <summary>
/// Case 3: `scan /proc/kmsg` spun on EAGAIN at 100% CPU (and consumed the kernel log), `scan /proc` ran for minutes
/// reading zero-filled pseudo files. Pseudo file systems are now refused as roots (exit 15, the file system named)
/// and skipped below a root, with one warning per mount.
/// </summary>
public sealed class PseudoFileSystemTests : IDisposable
{
    private const int InvalidArgument = 15;
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(60);
    private readonly HostileAgent _agent = new();

    public void Dispose() => _agent.Dispose();

    [Theory]
    [InlineData("/proc/kmsg", "proc")]
    [InlineData("/proc", "proc")]
    [InlineData("/proc/self/status", "proc")]
    [InlineData("/sys", "sysfs")]
    public void A_root_on_a_pseudo_file_system_is_refused_with_its_type(string root, string type)
    {
        var result = _agent.Scan([root], timeout: Quick);

        Assert.True(result.ExitCode == InvalidArgument, result.ToString());
        Assert.Contains($"{root} is on a {type} pseudo file system", result.Stderr);
        Assert.False(File.Exists(_agent.Snapshot), "nothing is recorded for a refused root");
    }

    [Fact]
    public void A_pseudo_file_system_below_a_root_is_skipped_once_with_a_warning()
    {
        // /dev crossed with oneFilesystem: false holds devpts (and often mqueue, hugetlbfs) mounts.
        var pseudoMounts = File.ReadAllLines("/proc/mounts")
            .Select(l => l.Split(' '))
            .Where(f => f[1].StartsWith("/dev/", StringComparison.Ordinal) && f[2] is "devpts" or "mqueue" or "hugetlbfs")
            .Select(f => f[1])
            .Distinct()
            .ToList();
        Assert.True(pseudoMounts.Count > 0, "this test needs a pseudo file system mounted below /dev (devpts at /dev/pts)");
        var policy = Path.Combine(_agent.Root, "dev.yaml");
        File.WriteAllText(policy, "name: dev\npaths:\n  - path: /dev\n    oneFilesystem: false\n");

        var result = _agent.Scan(["--policy", policy], timeout: Quick);

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var mount in pseudoMounts)
        {
            // stderr is not a terminal here, so each warning is one JSON log line with its path.
            var warnings = result.Stderr.Split('\n').Count(l => l.Contains("\"@l\":\"Warning\"", StringComparison.Ordinal)
                && l.Contains($"\"Path\":\"{mount}\"", StringComparison.Ordinal) && l.Contains("pseudo file system", StringComparison.Ordinal));
            Assert.True(warnings == 1, $"expected one warning for {mount}, got {warnings}\n{result}");
        }
        // The mount point itself is recorded (its owner and mode matter), nothing below it is.
        var again = _agent.Scan(["--policy", policy], timeout: Quick);
        Assert.DoesNotContain("/dev/pts/ptmx", again.Stdout);
    }
}

using System.Runtime.InteropServices;
using Fim.Core.Model;
using Fim.Core.Native;
using Fim.Core.Policy;
using Fim.Core.Scanning;

namespace Fim.Core.Tests.Scanning;

/// <summary>
/// Pseudo file systems hold kernel state, not files: below a root they are skipped (once per mount, one issue), and a
/// read that would block ends the content instead of being retried (it spun at 100% CPU on /proc/kmsg).
/// </summary>
public sealed class PseudoFileSystemTests : IDisposable
{
    private readonly ScanFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void Proc_mounted_below_a_root_is_recorded_as_a_mount_point_and_not_descended()
    {
        _f.Write("etc/passwd", "root");
        Directory.CreateDirectory(_f.P("proc"));
        ScanFixture.Sh("mount", "-t", "proc", "proc", _f.P("proc"));
        try
        {
            var policy = new CompiledPolicy { Name = "t", Rules = [new CompiledPathRule { Root = PathBytes.FromString(_f.Root), OneFilesystem = false }] };

            var result = new Scanner(policy, new ScanOptions { RecordOnly = true }).Scan(_f.Baseline);

            var issue = Assert.Single(result.Issues, i => i.Kind == ScanIssueKind.PseudoFileSystem);
            Assert.Equal(_f.P("proc"), issue.Path);
            Assert.Contains("proc is a pseudo file system", issue.Message);
            Assert.Contains(result.Updates, u => u.Path.AsSpan().SequenceEqual(_f.B("proc")));
            Assert.DoesNotContain(result.Updates, u => PathBytes.IsUnder(u.Path, _f.B("proc")) && u.Path.Length > _f.B("proc").Length);
            Assert.Contains(result.Updates, u => u.Path.AsSpan().SequenceEqual(_f.B("etc/passwd")));
        }
        finally
        {
            ScanFixture.Sh("umount", "-l", _f.P("proc"));
        }
    }

    [Fact]
    public void A_root_on_a_pseudo_file_system_is_not_scanned_and_says_so()
    {
        var policy = new CompiledPolicy { Name = "t", Rules = [new CompiledPathRule { Root = PathBytes.FromString("/proc/self/status") }] };

        var result = new Scanner(policy, new ScanOptions { RecordOnly = true }).Scan(_f.Baseline);

        Assert.Empty(result.Updates);
        Assert.Contains("proc pseudo file system", Assert.Single(result.Issues).Message);
    }

    [Theory]
    [InlineData("/proc", "proc")]
    [InlineData("/sys", "sysfs")]
    [InlineData("/tmp", null)]
    public void The_file_system_type_names_pseudo_file_systems_only(string path, string? expected) =>
        Assert.Equal(expected, PseudoFileSystems.Holding(PathBytes.FromString(path)));

    [Fact]
    public void A_read_that_would_block_ends_the_content_and_is_not_retried()
    {
        _f.Write("kmsg-like", "");
        var reads = 0;
        using var hasher = new ContentHasher(null)
        {
            Read = (_, _, _) =>
            {
                reads++;
                Marshal.SetLastPInvokeError(Libc.EAGAIN);
                return -1;
            },
        };

        var outcome = hasher.Hash(Libc.AT_FDCWD, Posix.Z(_f.B("kmsg-like")), _f.B("kmsg-like"), [HashAlgorithmKind.Sha256], long.MaxValue, out _, out var hashes);

        Assert.Equal(HashOutcome.Hashed, outcome);
        Assert.Equal(1, reads);
        Assert.Equal(ScanFixture.Sha256(""), ScanFixture.Hex(hashes![(int)HashAlgorithmKind.Sha256]));
    }

    [Fact]
    public void Hashing_stops_between_two_reads_when_the_scan_is_cancelled()
    {
        _f.Write("big", new string('x', 1 << 20));
        using var cts = new CancellationTokenSource();
        var reads = 0;
        using var hasher = new ContentHasher(null, ct: cts.Token)
        {
            Read = (_, _, count) =>
            {
                reads++;
                cts.Cancel();
                return count;
            },
        };

        Assert.Throws<OperationCanceledException>(() =>
            hasher.Hash(Libc.AT_FDCWD, Posix.Z(_f.B("big")), _f.B("big"), [HashAlgorithmKind.Sha256], long.MaxValue, out _, out _));
        Assert.Equal(1, reads);
    }
}

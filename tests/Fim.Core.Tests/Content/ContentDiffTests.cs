using System.Text;
using Fim.Contracts;
using Fim.Core.Content;
using Fim.Core.Events;
using Fim.Core.Model;
using Fim.Core.Policy;

namespace Fim.Core.Tests.Content;

public sealed class ContentDiffTests : IDisposable
{
    private readonly ContentFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static string Lines(int count, Func<int, string>? line = null) =>
        string.Concat(Enumerable.Range(1, count).Select(i => (line ?? (n => $"setting{n} = value{n}"))(i) + "\n"));

    [Fact]
    public void A_changed_config_file_carries_a_unified_diff_of_just_the_changed_lines()
    {
        _f.Write("app.conf", Lines(200));
        var policy = _f.Policy();
        var tracker = _f.Tracker(policy);
        Assert.Empty(_f.Cycle(policy, tracker));

        _f.Write("app.conf", Lines(200, n => n == 100 ? "setting100 = CHANGED" : $"setting{n} = value{n}"));
        var change = Assert.Single(_f.Cycle(policy, tracker));

        Assert.Equal(ChangeKind.Modified, change.Kind);
        Assert.Equal(DiffInfo.Included, change.DiffInfo!.Status);
        var diff = change.DiffText!;
        var changedLines = diff.Split('\n').Where(l => (l.StartsWith('-') || l.StartsWith('+')) && !l.StartsWith("---") && !l.StartsWith("+++")).ToList();
        Assert.Equal(["-setting100 = value100", "+setting100 = CHANGED"], changedLines);
        Assert.Contains("@@ -97,7 +97,7 @@", diff);
        Assert.DoesNotContain("setting50 ", diff); // only context around the change, not the file

        var e = EventRecords.From(change, EventOrigin.Local(), "a:b:1");
        Assert.Equal(diff, e.Diff);
        var json = ContractJson.ToText(e);
        Assert.Contains("\"diffInfo\":{\"status\":\"included\"}", json);
        // Under a hostRoot mount the diff names the file as the host knows it, like the event's path.
        var onHost = EventRecords.From(change, new EventOrigin("a", "h", _f.Root), "a:b:2");
        Assert.StartsWith("--- a/app.conf\n+++ b/app.conf\n@@", onHost.Diff);

        // The copy moved on: the next change diffs against the last content, not the first.
        _f.Write("app.conf", Lines(200, n => n == 100 ? "setting100 = CHANGED" : n == 7 ? "setting7 = again" : $"setting{n} = value{n}"));
        var next = Assert.Single(_f.Cycle(policy, tracker));
        Assert.Contains("+setting7 = again", next.DiffText);
        Assert.DoesNotContain("-setting100", next.DiffText);
    }

    [Theory]
    [InlineData("shadow")]
    [InlineData("ssl/private/server.key")]
    [InlineData("certs/server.pem")]
    [InlineData("kubernetes/admin.conf.kubeconfig")]
    [InlineData("app/.env")]
    [InlineData("custom/secret-ish.txt")]
    public void A_nodiff_file_gets_no_diff_and_no_copy_on_disk(string relative)
    {
        _f.Write(relative, "password=hunter2\n");
        var policy = _f.Policy(diffs: new DiffsSpec { Nodiff = ["custom/*"] });
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);
        _f.Write(relative, "password=correct-horse\n");

        var change = Assert.Single(_f.Cycle(policy, tracker));

        Assert.Null(change.DiffText);
        Assert.Equal(new DiffInfo { Status = DiffInfo.Omitted, Reason = "nodiff" }.Reason, change.DiffInfo!.Reason);
        Assert.False(File.Exists(tracker.CopyFileOf(_f.B(relative))));
        Assert.Equal(0, tracker.CopyCount);
        foreach (var file in Directory.EnumerateFiles(_f.StateDir, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain("hunter2", File.ReadAllText(file, Encoding.Latin1));
        }
    }

    [Fact]
    public void A_binary_file_gets_no_diff_and_says_why()
    {
        File.WriteAllBytes(_f.P("tool.bin"), [0x7f, (byte)'E', (byte)'L', (byte)'F', 0, 1, 2, 3]);
        var policy = _f.Policy();
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);
        File.WriteAllBytes(_f.P("tool.bin"), [0x7f, (byte)'E', (byte)'L', (byte)'F', 0, 9, 9, 9]);

        var change = Assert.Single(_f.Cycle(policy, tracker));

        Assert.Null(change.DiffText);
        Assert.Equal(DiffInfo.Omitted, change.DiffInfo!.Status);
        Assert.Equal("binary", change.DiffInfo.Reason);
        Assert.Equal(0, tracker.CopyCount);
    }

    [Fact]
    public void A_file_above_the_size_cap_gets_no_diff_and_says_too_large()
    {
        _f.Write("big.txt", Lines(100));
        var policy = _f.Policy(diffs: new DiffsSpec { MaxFileSize = "1Ki" });
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);
        _f.Write("big.txt", Lines(101));

        var change = Assert.Single(_f.Cycle(policy, tracker));

        Assert.Equal("too-large", change.DiffInfo!.Reason);
        Assert.Null(change.DiffText);
    }

    [Fact]
    public void A_10_MB_text_file_diff_is_cut_at_the_cap_with_a_marker()
    {
        _f.Write("huge.log", "start\n");
        var policy = _f.Policy(diffs: new DiffsSpec { MaxDiffSize = "32Ki" });
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);
        var big = Lines(200_000, n => $"line {n:D9} of a ten megabyte text file ......"); // ~10 MB
        Assert.InRange(big.Length, 10_000_000, 11_000_000);
        _f.Write("huge.log", big);

        var change = Assert.Single(_f.Cycle(policy, tracker));

        Assert.Equal(DiffInfo.Truncated, change.DiffInfo!.Status);
        Assert.True(change.DiffInfo.FullSize > 10_000_000, $"full size {change.DiffInfo.FullSize}");
        Assert.InRange(Encoding.UTF8.GetByteCount(change.DiffText!), 30 * 1024, 32 * 1024);
        Assert.EndsWith("(policy diffs.maxDiffSize)]\n", change.DiffText);
        Assert.Contains(UnifiedDiff.TruncatedMarker, change.DiffText);
        Assert.StartsWith("--- a", change.DiffText);
    }

    [Fact]
    public void Copies_are_0600_in_a_0700_directory_and_sealed()
    {
        _f.Write("a.conf", "x = 1\n");
        var policy = _f.Policy();
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);

        var copy = tracker.CopyFileOf(_f.B("a.conf"))!;
        Assert.True(File.Exists(copy));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(copy));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(copy)!));
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(copy)!, "*.tmp"));
    }

    [Fact]
    public void A_copy_that_fails_its_seal_is_reported_not_used()
    {
        _f.Write("a.conf", "x = 1\n");
        var policy = _f.Policy();
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);
        var copy = tracker.CopyFileOf(_f.B("a.conf"))!;
        var bytes = File.ReadAllBytes(copy);
        bytes[^1] ^= 0x55;
        File.WriteAllBytes(copy, bytes);

        _f.Write("a.conf", "x = 2\n");
        var change = Assert.Single(_f.Cycle(policy, tracker));

        Assert.Equal("copy-invalid", change.DiffInfo!.Reason);
        Assert.Null(change.DiffText);
        // A fresh, valid copy replaces it: the next change has its diff again.
        _f.Write("a.conf", "x = 3\n");
        Assert.Contains("+x = 3", Assert.Single(_f.Cycle(policy, tracker)).DiffText);
    }

    [Fact]
    public void The_copy_goes_when_the_file_goes_and_when_the_rule_stops_reporting_diffs()
    {
        _f.Write("a.conf", "x = 1\n");
        _f.Write("b.conf", "y = 1\n");
        var policy = _f.Policy();
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);
        Assert.Equal(2, tracker.CopyCount);

        File.Delete(_f.P("a.conf"));
        _f.Cycle(policy, tracker);
        Assert.False(File.Exists(tracker.CopyFileOf(_f.B("a.conf"))));
        Assert.Equal(1, tracker.CopyCount);

        var without = _f.Policy(reportDiffs: false);
        var pruning = _f.Tracker(without);
        Assert.Equal(1, pruning.Prune());
        Assert.Equal(0, pruning.CopyCount);

        ContentTracker.RemoveStored(_f.StateDir);
        Assert.False(Directory.Exists(Path.Combine(_f.StateDir, ContentTracker.DiffsDirectory)));
    }

    [Fact]
    public void The_quota_holds_under_10000_changed_files_and_is_reported()
    {
        for (var i = 0; i < 10_000; i++)
        {
            _f.Write($"d{i % 50}/f{i}.conf", Lines(4, n => $"file {i} line {n} {Guid.NewGuid()}"));
        }
        const long quota = 128 * 1024;
        var policy = _f.Policy(diffs: new DiffsSpec { Quota = "128Ki" });
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);
        Assert.InRange(tracker.CopyBytes, 1, quota);
        Assert.Contains("quota", tracker.TakeNotice());
        Assert.Null(tracker.TakeNotice()); // once per episode

        for (var i = 0; i < 10_000; i++)
        {
            _f.Write($"d{i % 50}/f{i}.conf", Lines(4, n => $"file {i} line {n} changed {Guid.NewGuid()}"));
        }
        var changes = _f.Cycle(policy, tracker);

        Assert.Equal(10_000, changes.Count);
        Assert.InRange(tracker.CopyBytes, 1, quota);
        var onDisk = Directory.EnumerateFiles(Path.Combine(_f.StateDir, ContentTracker.DiffsDirectory)).Sum(f => new FileInfo(f).Length);
        Assert.InRange(onDisk, 1, quota);
        Assert.All(changes, c => Assert.NotNull(c.DiffInfo));
        Assert.Contains(changes, c => c.DiffInfo!.Status == DiffInfo.Included);
        Assert.Contains(changes, c => c.DiffInfo!.Reason is "no-copy" or "quota");
    }

    [Fact]
    public void Files_outside_reportDiffs_get_nothing()
    {
        _f.Write("a.conf", "x = 1\n");
        var policy = _f.Policy(reportDiffs: false);
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);
        _f.Write("a.conf", "x = 2\n");

        var change = Assert.Single(_f.Cycle(policy, tracker));

        Assert.Null(change.DiffInfo);
        Assert.False(Directory.Exists(Path.Combine(_f.StateDir, ContentTracker.DiffsDirectory)));
    }
}

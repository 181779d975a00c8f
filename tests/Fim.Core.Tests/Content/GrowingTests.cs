using Fim.Contracts;
using Fim.Core.Content;
using Fim.Core.Events;
using Fim.Core.Model;
using Fim.Core.Rules;

namespace Fim.Core.Tests.Content;

public sealed class GrowingTests : IDisposable
{
    private readonly ContentFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static readonly string[] Growing = ["growing", "mode", "uid", "gid", "inode", "size", "mtime", "ctime"];

    private static string Lines(int from, int count) =>
        string.Concat(Enumerable.Range(from, count).Select(i => $"2026-12-02T10:00:00Z host sshd[{i}]: Accepted publickey for user{i % 7}\n"));

    private List<FileChange> FilesOnly(IEnumerable<FileChange> changes) => [.. changes.Where(c => c.DisplayPath != _f.Root)];

    private static void Append(string path, string text) => File.AppendAllText(path, text);

    private static Alert? Judge(FileChange change) =>
        RuleSet.Default.Evaluate(change, EventRecords.From(change, EventOrigin.Local(), "a:b:1"), new AlertContext(new Dictionary<string, string>(), null, []));

    [Fact]
    public void Appending_1000_lines_to_a_1_GB_log_is_no_change_and_reads_far_less_than_1_GB()
    {
        const long oneGb = 1L << 30;
        var log = _f.P("audit.log");
        using (var file = File.Create(log))
        {
            file.SetLength(oneGb); // sparse: the test does not need a gigabyte of disk, the agent still reads it as one
        }
        var policy = _f.Policy(reportDiffs: false, check: Growing);
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);
        Assert.Equal(oneGb, tracker.GrowthBytesRead); // checkpoints are built once, with one full read
        var before = tracker.GrowthBytesRead;

        Append(log, Lines(1, 1000));
        var changes = _f.Cycle(policy, tracker, out var hashed);

        Assert.Empty(changes);
        var read = tracker.GrowthBytesRead - before + hashed;
        Assert.True(read < 8L << 20, $"an append of 1,000 lines read {read:N0} bytes of a 1 GB log");
        Assert.Equal(0, hashed); // the scanner does not re-hash an append-only file

        // A second append after that reads little as well, and the rolling checkpoints moved on.
        before = tracker.GrowthBytesRead;
        Append(log, Lines(1001, 1000));
        Assert.Empty(_f.Cycle(policy, tracker));
        Assert.True(tracker.GrowthBytesRead - before < 8L << 20);
    }

    [Fact]
    public void Editing_one_earlier_byte_is_one_high_level_alert()
    {
        var log = _f.P("app.log");
        File.WriteAllText(log, Lines(1, 40_000)); // ~3 MB, several checkpoint chunks
        var policy = _f.Policy(reportDiffs: false, check: Growing);
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);

        using (var file = new FileStream(log, FileMode.Open, FileAccess.Write))
        {
            file.Position = 1_500_000; // inside the second chunk: not the tail, not necessarily a rolling one
            file.WriteByte((byte)'X');
        }
        var change = Assert.Single(_f.Cycle(policy, tracker));

        Assert.Equal(ChangeKind.AppendViolation, change.Kind);
        Assert.Equal(GrowthInfo.Rewritten, change.Growth!.Verdict);
        Assert.Equal(GrowthCheckpoint.ChunkSize, change.Growth.ChangedAt);
        var alert = Judge(change)!;
        Assert.Equal(RuleSet.AppendViolationLevel, alert.Level);
        Assert.True(alert.Level >= 10);
        Assert.Equal("append-violation", alert.Kind);

        // Reported once: the next append is fine again.
        Append(log, Lines(50_000, 10));
        Assert.Empty(_f.Cycle(policy, tracker));
    }

    [Fact]
    public void Editing_the_last_chunk_while_appending_is_caught()
    {
        var log = _f.P("app.log");
        File.WriteAllText(log, Lines(1, 20_000));
        var policy = _f.Policy(reportDiffs: false, check: Growing);
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);
        var size = new FileInfo(log).Length;

        using (var file = new FileStream(log, FileMode.Open, FileAccess.Write))
        {
            file.Position = size - 10;
            file.WriteByte((byte)'#');
        }
        Append(log, Lines(30_000, 5));
        var change = Assert.Single(_f.Cycle(policy, tracker));

        Assert.Equal(ChangeKind.AppendViolation, change.Kind);
        Assert.Equal(GrowthInfo.Rewritten, change.Growth!.Verdict);
    }

    [Fact]
    public void Truncating_is_one_high_level_alert()
    {
        var log = _f.P("app.log");
        File.WriteAllText(log, Lines(1, 1000));
        var policy = _f.Policy(reportDiffs: false, check: Growing);
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);
        var size = new FileInfo(log).Length;

        using (var file = new FileStream(log, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(size / 2);
        }
        var change = Assert.Single(_f.Cycle(policy, tracker));

        Assert.Equal(ChangeKind.AppendViolation, change.Kind);
        Assert.Equal(GrowthInfo.Truncated, change.Growth!.Verdict);
        Assert.Equal(size, change.Growth.PreviousSize);
        Assert.Equal(RuleSet.AppendViolationLevel, Judge(change)!.Level);
    }

    [Fact]
    public void Logrotate_rename_and_create_is_reported_as_rotation()
    {
        var log = _f.P("app.log");
        File.WriteAllText(log, Lines(1, 1000));
        var policy = _f.Policy(reportDiffs: false, check: Growing);
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);

        File.Move(log, _f.P("app.log.1"));
        File.WriteAllText(log, "");
        Append(log, Lines(2000, 3));
        // The directory's own times changed too (an entry came and went); the rotated file's "added" is part of the rotation.
        var change = Assert.Single(FilesOnly(_f.Cycle(policy, tracker)));

        Assert.Equal(ChangeKind.Rotated, change.Kind);
        Assert.Equal(GrowthInfo.Rotated, change.Growth!.Verdict);
        Assert.Equal(_f.P("app.log.1"), change.Growth.RotatedTo);
        var alert = Judge(change)!;
        Assert.Equal("rotated", alert.Kind);
        Assert.True(alert.Level < 7);

        // Both files are watched as append-only from here on: the old one keeps its checkpoints under its new name.
        Append(log, Lines(3000, 3));
        Assert.Empty(FilesOnly(_f.Cycle(policy, tracker)));
        using (var file = new FileStream(_f.P("app.log.1"), FileMode.Open, FileAccess.Write))
        {
            file.SetLength(10);
        }
        var cut = Assert.Single(_f.Cycle(policy, tracker));
        Assert.Equal(ChangeKind.AppendViolation, cut.Kind);
        Assert.Equal(_f.P("app.log.1"), cut.DisplayPath);
    }

    [Fact]
    public void A_file_replaced_without_a_rotation_is_a_violation()
    {
        var log = _f.P("app.log");
        File.WriteAllText(log, Lines(1, 100));
        var policy = _f.Policy(reportDiffs: false, check: Growing);
        var tracker = _f.Tracker(policy);
        _f.Cycle(policy, tracker);

        var temp = _f.P("edited.tmp");
        File.WriteAllText(temp, Lines(1, 99) + "forged line\n");
        File.Move(temp, log, overwrite: true);
        var change = Assert.Single(FilesOnly(_f.Cycle(policy, tracker)));

        Assert.Equal(ChangeKind.AppendViolation, change.Kind);
        Assert.Equal(GrowthInfo.Replaced, change.Growth!.Verdict);
    }

    [Fact]
    public void Growing_is_not_part_of_all_and_is_parsed()
    {
        var all = _f.Policy(reportDiffs: false, check: ["all"]);
        Assert.False(all.Rules[0].IsGrowing);
        var growing = _f.Policy(reportDiffs: false, check: ["growing"]);
        Assert.True(growing.Rules[0].IsGrowing);
        Assert.False(growing.Rules[0].WantsHash);
    }
}

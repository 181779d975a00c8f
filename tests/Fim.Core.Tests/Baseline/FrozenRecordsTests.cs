using System.Text;
using Fim.Core.Baseline;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Scanning;
using Fim.Core.Tests.Scanning;

namespace Fim.Core.Tests.Baseline;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class FrozenRecordsTests
{
    private static readonly Dictionary<string, string> Meta = new() { ["policy"] = "sha256:abc" };

    private static FrozenRecords Freeze(IEnumerable<FileRecord> records)
    {
        var sorted = records.OrderBy(r => r.Path, PathComparer.Instance).ToList();
        var builder = new FrozenRecords.Builder(sorted.Count);
        sorted.ForEach(builder.Add);
        return builder.Build();
    }

    [Fact]
    public void Every_field_survives_freezing_including_rare_and_extreme_values()
    {
        var records = TestRecords.Many(3000);
        records.Add(FileRecordCodecTests.Full());
        records.Add(new FileRecord { Path = "/no/hashes"u8.ToArray(), Type = FileType.Directory, MtimeNs = 5, CtimeNs = 3 });
        records.Add(new FileRecord { Path = "/empty/slots"u8.ToArray(), Hashes = [null, null], Size = -1, Xattrs = [] });
        records.Add(new FileRecord { Path = "/l"u8.ToArray(), Type = FileType.Symlink, SymlinkTarget = "/target"u8.ToArray(), MtimeNs = long.MaxValue, CtimeNs = long.MinValue });
        // Paths far past PATH_MAX (a deep tree walked by directory descriptors): longer than half a buffer, and than one.
        records.Add(new FileRecord { Path = [.. "/deep"u8, .. Enumerable.Repeat((byte)'a', 700_000)], Hashes = [new byte[32]] });
        records.Add(new FileRecord { Path = [.. "/deeper"u8, .. Enumerable.Repeat((byte)'b', 1_500_000)] });
        var frozen = Freeze(records);

        Assert.Equal(records.Count, frozen.Count);
        Assert.Equal(records.Count, frozen.LiveCount);
        foreach (var r in records)
        {
            var ordinal = frozen.Find(r.Path, RecordTable.Hash(r.Path));
            Assert.True(ordinal >= 0, PathBytes.ToDisplay(r.Path));
            TestRecords.AssertEqual(r, frozen.Decode(ordinal));
        }
        Assert.Equal(-1, frozen.Find("/etc/dir1/missing"u8, RecordTable.Hash("/etc/dir1/missing"u8)));
        Assert.Equal(records.Select(r => r.Path).Order(PathComparer.Instance), frozen.Live().Select(r => r.Path));
    }

    [Fact]
    public void A_table_over_frozen_records_replaces_removes_and_adds_back_with_exact_counts()
    {
        var records = TestRecords.Many(1000);
        var table = new RecordTable(Freeze(records));
        Assert.Equal(1000, table.Count);

        var five = TestRecords.Modified(records[5]);
        TestRecords.AssertEqual(records[5], table.Set(five)!);
        Assert.Equal(1000, table.Count);
        Assert.True(table.TryGet(five.Path, out var found));
        Assert.Same(five, found);

        TestRecords.AssertEqual(records[6], table.Remove(records[6].Path)!);
        Assert.Equal(999, table.Count);
        Assert.False(table.TryGet(records[6].Path, out _));
        Assert.Null(table.Remove(records[6].Path));
        Assert.Null(table.Set(records[6]));
        Assert.Equal(1000, table.Count);

        Assert.Same(five, table.Remove(five.Path));
        Assert.False(table.TryGet(five.Path, out _));
        Assert.Null(table.Set(TestRecords.Make(5000)));
        Assert.Equal(1000, table.Count);

        var all = table.All.ToList();
        Assert.Equal(table.Count, all.Count);
        Assert.Equal(all.Count, all.Select(r => Encoding.Latin1.GetString(r.Path)).Distinct().Count());
        Assert.DoesNotContain(all, r => r.Path.AsSpan().SequenceEqual(five.Path));
    }

    [Fact]
    public async Task Readers_always_find_frozen_paths_while_a_writer_replaces_them()
    {
        var records = TestRecords.Many(2000);
        var frozen = Enumerable.Range(0, 100).Select(_ => Freeze(records)).ToArray();
        var table = new RecordTable(frozen[0]);
        var writer = Task.Run(() =>
        {
            // A frozen entry turns into an object once: a fresh table for each round. The first half is replaced (the
            // object in the array first, then the frozen entry marked removed); the second removed and put back.
            foreach (var f in frozen.Skip(1))
            {
                var t = new RecordTable(f);
                Volatile.Write(ref table, t);
                for (var i = 0; i < 1000; i++)
                {
                    t.Set(TestRecords.Modified(records[i]));
                    t.Remove(records[1000 + i].Path);
                    t.Set(records[1000 + i]);
                }
            }
        });
        var misses = 0;
        var reader = Task.Run(() =>
        {
            while (!writer.IsCompleted)
            {
                var t = Volatile.Read(ref table);
                for (var i = 0; i < 1000; i++)
                {
                    if (!t.TryGet(records[i].Path, out var r) || !r.Path.AsSpan().SequenceEqual(records[i].Path))
                    {
                        Interlocked.Increment(ref misses);
                    }
                }
            }
        });
        await Task.WhenAll(writer, reader).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(0, misses);
        Assert.Equal(2000, table.Count);
    }

    [Fact]
    public void A_scan_mark_on_a_decoded_record_stays_with_its_path()
    {
        var records = TestRecords.Many(100);
        var table = new RecordTable(Freeze(records));
        Assert.True(table.TryGet(records[1].Path, out var first));
        table.MarkSeen(first, 7);

        Assert.True(table.TryGet(records[1].Path, out var again));
        Assert.NotSame(first, again);
        Assert.Equal(7, table.SeenGeneration(again));
        Assert.True(table.TryGet(records[2].Path, out var other));
        Assert.Equal(0, table.SeenGeneration(other));

        var replacement = TestRecords.Modified(records[2]);
        table.Set(replacement);
        table.MarkSeen(replacement, 9);
        Assert.Equal(9, replacement.SeenGeneration);
        Assert.Equal(9, table.SeenGeneration(replacement));
    }

    [Fact]
    public void A_reopened_store_commits_its_frozen_records_merged_in_order_with_the_new_ones()
    {
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        var expected = TestRecords.Many(2000).ToDictionary(r => Encoding.Latin1.GetString(r.Path));
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            expected.Values.ToList().ForEach(store.Records.Set);
            store.Save(Meta);
        }
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            // New paths that sort between, before and after the frozen ones; replaced and removed frozen ones.
            foreach (var r in TestRecords.Many(300, "/etc/dir1").Concat(TestRecords.Many(10, "/a")).Concat(TestRecords.Many(10, "/z")))
            {
                store.Records.Set(r);
                expected[Encoding.Latin1.GetString(r.Path)] = r;
            }
            foreach (var r in expected.Values.Where((_, i) => i % 7 == 0).ToList())
            {
                var changed = TestRecords.Modified(r);
                store.Records.Set(changed);
                expected[Encoding.Latin1.GetString(r.Path)] = changed;
            }
            foreach (var r in expected.Values.Where((_, i) => i % 11 == 3).ToList())
            {
                Assert.True(store.Records.Remove(r.Path));
                expected.Remove(Encoding.Latin1.GetString(r.Path));
            }
            TestRecords.AssertContainsExactly(expected.Values, store.Records);
            store.Save(Meta);
        }
        using var reopened = BaselineStore.Open(dir.StateDir, key);
        TestRecords.AssertContainsExactly(expected.Values, reopened.Records);
    }

    [Fact]
    public void A_first_baseline_freezes_once_committed_and_keeps_taking_edits()
    {
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        var expected = TestRecords.Many(3000).ToDictionary(r => Encoding.Latin1.GetString(r.Path));
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            expected.Values.ToList().ForEach(store.Records.Set);
            Assert.False(store.Records.Freeze()); // nothing committed yet
            store.Save(Meta);
            Assert.True(store.Records.Freeze());
            Assert.False(store.Records.Freeze()); // nothing left as objects
            var one = expected.Values.First();
            Assert.True(store.Records.TryGet(one.Path, out var decoded));
            Assert.NotSame(one, decoded);
            TestRecords.AssertContainsExactly(expected.Values, store.Records);

            var changed = TestRecords.Modified(one);
            store.Records.Set(changed);
            expected[Encoding.Latin1.GetString(one.Path)] = changed;
            var gone = expected.Values.Last();
            Assert.True(store.Records.Remove(gone.Path));
            expected.Remove(Encoding.Latin1.GetString(gone.Path));
            Assert.False(store.Records.Freeze()); // uncommitted edits
            store.Save(Meta);
            TestRecords.AssertContainsExactly(expected.Values, store.Records);
        }
        using var reopened = BaselineStore.Open(dir.StateDir, key);
        TestRecords.AssertContainsExactly(expected.Values, reopened.Records);
    }

    [Fact]
    public void A_scan_over_a_reopened_store_reports_exactly_the_deleted_and_changed_files()
    {
        using var tree = new ScanFixture();
        for (var i = 0; i < 200; i++)
        {
            tree.Write($"d{i % 10}/f{i}", $"content {i}");
        }
        var policy = tree.Policy();
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            foreach (var u in new Scanner(policy, new ScanOptions { RecordOnly = true }).Scan(store.Records).Updates)
            {
                store.Records.Set(u.Record!);
            }
            store.Save(Meta);
        }
        File.Delete(tree.P("d3/f13"));
        File.AppendAllText(tree.P("d4/f14"), " more");

        using var reopened = BaselineStore.Open(dir.StateDir, key);
        var result = new Scanner(policy).Scan(reopened.Records);

        // Deleting a file also changes its directory's mtime: the files' changes are the two made, and nothing else went.
        Assert.Equal(
            [(ChangeKind.Modified, tree.P("d4/f14")), (ChangeKind.Deleted, tree.P("d3/f13"))],
            result.Changes.Select(c => (c.Kind, Path: PathBytes.ToDisplay(c.Path))).Where(c => !Directory.Exists(c.Path)).Order());
        Assert.Single(result.Changes, c => c.Kind == ChangeKind.Deleted);
    }

    [Fact]
    public void Entries_added_in_any_order_are_sorted_keeping_the_last_of_a_path_and_leaving_out_dropped_ones()
    {
        var records = TestRecords.Many(500);
        var builder = new FrozenRecords.Builder(0);
        // records[11] found twice, the changed form first; records[10] twice, the changed form last.
        builder.Add(TestRecords.Modified(records[11]));
        records.OrderBy(r => Convert.ToHexString(System.Security.Cryptography.MD5.HashData(r.Path))).ToList().ForEach(builder.Add);
        var newer = TestRecords.Modified(records[10]);
        builder.Add(newer);

        builder.SortByPath(new HashSet<byte[]>([records[3].Path], PathComparer.Instance));
        var frozen = builder.Build();

        var expected = records.Where((_, i) => i != 3).Select((r, _) => r == records[10] ? newer : r)
            .OrderBy(r => r.Path, PathComparer.Instance).ToList();
        var actual = frozen.InOrder(frozen.RemovedNow()).ToList();
        Assert.Equal(expected.Count, frozen.Count);
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            TestRecords.AssertEqual(expected[i], actual[i]);
            Assert.Equal(i, frozen.Find(expected[i].Path, RecordTable.Hash(expected[i].Path)));
        }
        Assert.Equal(-1, frozen.Find(records[3].Path, RecordTable.Hash(records[3].Path)));
    }

    /// <summary>A tree of 300 files, its policy, and its records as a scan that reports makes them (objects, not frozen).</summary>
    private static (ScanFixture Tree, CompiledPolicy Policy, List<FileRecord> Records) TreeOf300Files()
    {
        var tree = new ScanFixture();
        for (var i = 0; i < 300; i++)
        {
            tree.Write($"d{i % 10}/f{i}", $"content {i}");
        }
        var policy = tree.Policy();
        return (tree, policy, new Scanner(policy).Scan(new InMemoryBaseline()).Updates.Select(u => u.Record!).ToList());
    }

    [Fact]
    public void A_first_baseline_walk_is_taken_whole_frozen_and_a_failed_save_leaves_nothing()
    {
        var (tree, policy, objects) = TreeOf300Files();
        using var _ = tree;
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            var first = new Scanner(policy, new ScanOptions { RecordOnly = true }).Scan(store.Records);
            Assert.IsType<FrozenUpdates>(first.Updates);
            Assert.Equal(objects.Select(r => r.Path).Order(PathComparer.Instance), first.Updates.Select(u => u.Path));

            store.Records.Apply(first.Updates);
            Assert.True(store.Records.HasUncommittedChanges);
            Assert.False(store.Records.Freeze()); // taken frozen: nothing to freeze, and nothing committed yet
            TestRecords.AssertContainsExactly(objects, store.Records);

            Directory.CreateDirectory(dir.File(BaselineStore.SnapshotFileName + ".tmp"));
            Assert.Throws<BaselineWriteException>(() => store.Save(Meta));
            Assert.Equal(0, store.Records.Count);
            Assert.Empty(store.Records.All);
            Assert.False(store.Records.HasUncommittedChanges);

            // The same updates again, after the failure: their frozen entries were rolled back, so they go one by one.
            Directory.Delete(dir.File(BaselineStore.SnapshotFileName + ".tmp"));
            store.Records.Apply(first.Updates);
            TestRecords.AssertContainsExactly(objects, store.Records);
            store.Save(Meta);
            Assert.Empty(new Scanner(policy).Scan(store.Records).Changes);
        }
        using var reopened = BaselineStore.Open(dir.StateDir, key);
        TestRecords.AssertContainsExactly(objects, reopened.Records);
    }

    [Fact]
    public void A_first_baseline_saved_as_the_walk_froze_it_reopens_with_every_record()
    {
        var (tree, policy, objects) = TreeOf300Files();
        using var _ = tree;
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            store.Records.Apply(new Scanner(policy, new ScanOptions { RecordOnly = true }).Scan(store.Records).Updates);
            store.Save(Meta);
            Assert.False(store.Records.HasUncommittedChanges);
            File.AppendAllText(tree.P("d4/f14"), " more");
            var change = Assert.Single(new Scanner(policy).Scan(store.Records).Changes, c => c.Kind != ChangeKind.Attributes);
            Assert.Equal(tree.P("d4/f14"), PathBytes.ToDisplay(change.Path));
        }
        using var reopened = BaselineStore.Open(dir.StateDir, key);
        TestRecords.AssertContainsExactly(objects, reopened.Records);
    }
}

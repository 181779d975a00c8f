using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Core.Tests.Baseline;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class BaselineStoreTests
{
    private static readonly Dictionary<string, string> Meta = new() { ["policy"] = "sha256:abc", ["agent"] = "0.1.0" };

    [Fact]
    public void NewStoreIsEmptyAndSaveMakesItDurable()
    {
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        var records = TestRecords.Many(500);
        records.Add(FileRecordCodecTests.Full());
        string digest;
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            Assert.True(store.IsEmpty);
            Assert.Equal(0, store.Records.Count);
            Assert.Null(store.CreatedAt);
            Assert.Equal("", store.Digest);
            records.ForEach(store.Records.Set);
            store.Save(Meta);
            Assert.False(store.IsEmpty);
            Assert.False(store.Records.HasUncommittedChanges);
            digest = store.Digest;
            Assert.Matches("^[0-9a-f]{64}$", digest);
        }
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir.StateDir));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.File(BaselineStore.SnapshotFileName)));

        using var reopened = BaselineStore.Open(dir.StateDir, key);
        Assert.False(reopened.IsEmpty);
        TestRecords.AssertContainsExactly(records, reopened.Records);
        // The caller's metadata, plus the store's own identity and snapshot count (what a baseline anchor checks).
        Assert.Equal(Meta, reopened.Metadata.Where(m => !m.Key.StartsWith("fim.", StringComparison.Ordinal)).ToDictionary());
        Assert.Equal("1", reopened.Metadata[BaselineStore.GenerationKey]);
        Assert.Equal(32, reopened.Metadata[BaselineStore.StoreIdKey].Length);
        Assert.NotNull(reopened.CreatedAt);
        Assert.InRange(reopened.CreatedAt!.Value, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(digest, reopened.Digest);
        Assert.Equal(0, reopened.TornJournalEntriesDropped);
    }

    [Fact]
    public void LookupBySpanFindsTheSameRecords()
    {
        using var dir = new TempDir();
        using var store = BaselineStore.Open(dir.StateDir, BaselineKey.LoadOrCreate(dir.KeyFile));
        var r = FileRecordCodecTests.Full();
        store.Records.Set(r);
        ReadOnlySpan<byte> probe = [.. r.Path];
        Assert.True(store.Records.TryGet(probe, out var found));
        Assert.Same(r, found);
        Assert.False(store.Records.TryGet("/nope"u8, out _));
    }

    [Fact]
    public void JournalUpdatesSurviveReopenAndCompaction()
    {
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        var expected = TestRecords.Many(200).ToDictionary(r => PathBytes.ToDisplay(r.Path));
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            foreach (var r in expected.Values)
            {
                store.Records.Set(r);
            }
            store.Save(Meta);
            var before = store.Digest;

            var changed = TestRecords.Modified(expected.Values.First());
            var deleted = expected.Values.Skip(1).First();
            var added = TestRecords.Make(1000, "/usr");
            store.Append([BaselineUpdate.Upsert(changed), BaselineUpdate.Delete(deleted.Path)]);
            store.Append([BaselineUpdate.Upsert(added)]);
            expected[PathBytes.ToDisplay(changed.Path)] = changed;
            expected.Remove(PathBytes.ToDisplay(deleted.Path));
            expected[PathBytes.ToDisplay(added.Path)] = added;

            TestRecords.AssertContainsExactly(expected.Values, store.Records);
            Assert.Equal(3, store.JournalEntryCount);
            Assert.Equal(new FileInfo(dir.File(BaselineStore.JournalFileName)).Length, store.JournalBytes);
            Assert.NotEqual(before, store.Digest);
            Assert.True(File.Exists(dir.File(BaselineStore.JournalFileName)));
        }

        string digest;
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            TestRecords.AssertContainsExactly(expected.Values, store.Records);
            Assert.Equal(3, store.JournalEntryCount);
            digest = store.Digest;
            // Appending after a reopen continues the MAC chain.
            var again = TestRecords.Make(2000, "/opt");
            store.Append([BaselineUpdate.Upsert(again)]);
            expected[PathBytes.ToDisplay(again.Path)] = again;
        }

        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            TestRecords.AssertContainsExactly(expected.Values, store.Records);
            Assert.NotEqual(digest, store.Digest);
            store.Save(Meta);
            Assert.False(File.Exists(dir.File(BaselineStore.JournalFileName)));
            Assert.Equal(0, store.JournalEntryCount);
            Assert.Equal(0, store.JournalBytes);
        }

        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            TestRecords.AssertContainsExactly(expected.Values, store.Records);
        }
    }

    [Fact]
    public void AppendNeedsASavedBaselineAndMatchingPaths()
    {
        using var dir = new TempDir();
        using var store = BaselineStore.Open(dir.StateDir, BaselineKey.LoadOrCreate(dir.KeyFile));
        Assert.Throws<InvalidOperationException>(() => store.Append([BaselineUpdate.Upsert(TestRecords.Make(1))]));
        store.Save(Meta);
        Assert.Throws<ArgumentException>(() => store.Append([new BaselineUpdate("/other"u8.ToArray(), TestRecords.Make(1))]));
        Assert.Equal(0, store.Records.Count);
    }

    [Fact]
    public void FailedSaveRollsBackUnsavedEditsAndKeepsTheOldBaseline()
    {
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        var original = TestRecords.Many(50);
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            original.ForEach(store.Records.Set);
            store.Save(Meta);
            var journaled = TestRecords.Modified(original[3]);
            store.Append([BaselineUpdate.Upsert(journaled)]);
            original[3] = journaled;

            store.Records.Set(TestRecords.Modified(original[0]));
            store.Records.Remove(original[1].Path);
            store.Records.Set(TestRecords.Make(999, "/new"));
            store.Records.Set(TestRecords.Modified(original[2]));
            store.Records.Set(TestRecords.Modified(TestRecords.Modified(original[2])));
            Assert.True(store.Records.HasUncommittedChanges);

            // A directory where the temporary snapshot goes makes the write fail.
            Directory.CreateDirectory(dir.File(BaselineStore.SnapshotFileName + ".tmp"));
            var e = Assert.Throws<BaselineWriteException>(() => store.Save(Meta));
            Assert.Contains("previous baseline is intact", e.Message);
            Assert.Contains(BaselineStore.SnapshotFileName, e.Message);
            TestRecords.AssertContainsExactly(original, store.Records);
            Assert.False(store.Records.HasUncommittedChanges);

            // The store stays usable.
            Directory.Delete(dir.File(BaselineStore.SnapshotFileName + ".tmp"));
            store.Records.Set(TestRecords.Make(998, "/new"));
            store.Save(Meta);
            original.Add(TestRecords.Make(998, "/new"));
        }
        using var reopened = BaselineStore.Open(dir.StateDir, key);
        TestRecords.AssertContainsExactly(original, reopened.Records);
    }

    [Fact]
    public void FailedFirstSaveRollsBackToNothingWithoutAnEntryPerPath()
    {
        // Issue 20: a first baseline keeps no per-path record of what it edits (nothing was committed); a failed save
        // must still leave memory matching disk: empty.
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        var records = TestRecords.Many(200);
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            store.Records.EnsureCapacity(records.Count);
            records.ForEach(store.Records.Set);
            store.Records.Remove(records[7].Path);
            store.Records.Set(TestRecords.Modified(records[8]));
            Assert.True(store.Records.Remove(records[9].Path));
            Assert.False(store.Records.Remove(records[9].Path));
            Assert.True(store.Records.HasUncommittedChanges);

            Directory.CreateDirectory(dir.File(BaselineStore.SnapshotFileName + ".tmp"));
            Assert.Throws<BaselineWriteException>(() => store.Save(Meta));
            Assert.Equal(0, store.Records.Count);
            Assert.False(store.Records.HasUncommittedChanges);
            Assert.Empty(store.Records.All);

            // Again after the failure, now written: then edits are tracked one by one, and a failed save restores them.
            Directory.Delete(dir.File(BaselineStore.SnapshotFileName + ".tmp"));
            records.ForEach(store.Records.Set);
            store.Save(Meta);
            Assert.False(store.Records.HasUncommittedChanges);
            store.Records.Remove(records[0].Path);
            store.Records.Set(TestRecords.Make(999, "/new"));
            Directory.CreateDirectory(dir.File(BaselineStore.SnapshotFileName + ".tmp"));
            Assert.Throws<BaselineWriteException>(() => store.Save(Meta));
            TestRecords.AssertContainsExactly(records, store.Records);
            Directory.Delete(dir.File(BaselineStore.SnapshotFileName + ".tmp"));
        }
        using var reopened = BaselineStore.Open(dir.StateDir, key);
        TestRecords.AssertContainsExactly(records, reopened.Records);
    }

    [Fact]
    public void EditsOfAnEmptyBaselineThatAJournalAppendPartlyCommitsRollBackToTheJournal()
    {
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            store.Save(Meta);
            // Uncommitted additions to an empty baseline, then an append that commits one path of them and another.
            store.Records.Set(TestRecords.Make(1));
            store.Records.Set(TestRecords.Make(2));
            store.Append([BaselineUpdate.Upsert(TestRecords.Modified(TestRecords.Make(2))), BaselineUpdate.Upsert(TestRecords.Make(3))]);
            store.Records.Set(TestRecords.Make(4));
            Assert.True(store.Records.HasUncommittedChanges);

            Directory.CreateDirectory(dir.File(BaselineStore.SnapshotFileName + ".tmp"));
            Assert.Throws<BaselineWriteException>(() => store.Save(Meta));
            TestRecords.AssertContainsExactly([TestRecords.Modified(TestRecords.Make(2)), TestRecords.Make(3)], store.Records);
            Assert.False(store.Records.HasUncommittedChanges);
            Directory.Delete(dir.File(BaselineStore.SnapshotFileName + ".tmp"));
        }
        using var reopened = BaselineStore.Open(dir.StateDir, key);
        TestRecords.AssertContainsExactly([TestRecords.Modified(TestRecords.Make(2)), TestRecords.Make(3)], reopened.Records);
    }

    [Fact]
    public void UnsavedEditsAreNotPersistedByAppend()
    {
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            store.Save(Meta);
            store.Records.Set(TestRecords.Make(1));
            store.Append([BaselineUpdate.Upsert(TestRecords.Make(2))]);
        }
        using var reopened = BaselineStore.Open(dir.StateDir, key);
        TestRecords.AssertContainsExactly([TestRecords.Make(2)], reopened.Records);
    }

    [Fact]
    public void SecondOpenOfTheSameDirectoryIsRefusedWhileTheFirstHoldsIt()
    {
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        using (BaselineStore.Open(dir.StateDir, key))
        {
            var e = Assert.Throws<BaselineLockedException>(() => BaselineStore.Open(dir.StateDir, key));
            Assert.Contains(Path.GetFullPath(dir.StateDir), e.Message);
            Assert.Equal(Path.GetFullPath(dir.StateDir), e.StateDirectory);
            Assert.Throws<BaselineLockedException>(() => BaselineStore.Discard(dir.StateDir));
        }
        using var again = BaselineStore.Open(dir.StateDir, key);
    }

    [Fact]
    public void DiscardRemovesTheBaselineButNotTheKey()
    {
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            store.Records.Set(TestRecords.Make(1));
            store.Save(Meta);
            store.Append([BaselineUpdate.Upsert(TestRecords.Make(2))]);
        }
        BaselineStore.Discard(dir.StateDir);
        Assert.False(File.Exists(dir.File(BaselineStore.SnapshotFileName)));
        Assert.False(File.Exists(dir.File(BaselineStore.JournalFileName)));
        Assert.True(File.Exists(dir.KeyFile));
        using var reopened = BaselineStore.Open(dir.StateDir, key);
        Assert.True(reopened.IsEmpty);
        Assert.Equal(0, reopened.Records.Count);
    }

    [Fact]
    public async Task ReadersRunWhileTheWriterSavesAndAppends()
    {
        using var dir = new TempDir();
        using var store = BaselineStore.Open(dir.StateDir, BaselineKey.LoadOrCreate(dir.KeyFile));
        var records = TestRecords.Many(2000);
        records.ForEach(store.Records.Set);
        store.Save(Meta);
        using var stop = new CancellationTokenSource();
        var lookups = 0L;
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var r in records)
                {
                    Assert.True(store.Records.TryGet(r.Path, out var found));
                    Assert.Equal(r.Path, found.Path);
                    Interlocked.Increment(ref lookups);
                }
            }
        })).ToArray();
        Assert.True(SpinWait.SpinUntil(() => Interlocked.Read(ref lookups) > 0, Fim.Testing.Eventually.DefaultTimeout));
        for (var round = 0; round < 20; round++)
        {
            var updates = records.Skip(round * 10).Take(10).Select(r => BaselineUpdate.Upsert(TestRecords.Modified(r))).ToList();
            store.Append(updates);
            foreach (var r in records.Skip(1000 + round * 10).Take(10))
            {
                store.Records.Set(TestRecords.Modified(r));
            }
            store.Save(Meta);
        }
        stop.Cancel();
        await Task.WhenAll(readers);
        Assert.True(lookups > 0);
        Assert.Equal(records.Count, store.Records.Count);
    }
}

using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Core.Tests.Baseline;

/// <summary>A real full file system: the state directory on a 1 MiB tmpfs.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class BaselineDiskFullTests
{
    private static readonly Dictionary<string, string> Meta = new() { ["policy"] = "p1" };

    [TmpfsFact]
    public void SaveThatDoesNotFitFailsAndLeavesTheOldBaseline()
    {
        using var dir = new TempDir();
        var mount = Path.Combine(dir.Path, "state");
        Assert.Null(Tmpfs.Mount(mount, "1m"));
        try
        {
            var key = BaselineKey.LoadOrCreate(dir.KeyFile);
            var small = TestRecords.Many(1000);
            var journaled = TestRecords.Make(5, "/journaled");
            using (var store = BaselineStore.Open(dir.StateDir, key))
            {
                small.ForEach(store.Records.Set);
                store.Save(Meta);
                store.Append([BaselineUpdate.Upsert(journaled)]);
                var digest = store.Digest;

                var big = TestRecords.Many(10_000, "/usr");
                big.ForEach(store.Records.Set);
                var e = Assert.Throws<BaselineWriteException>(() => store.Save(Meta));
                Assert.True(e.IsDiskFull);
                Assert.Contains("no space left on device", e.Message);
                Assert.Contains("previous baseline is intact", e.Message);
                // Memory is back in step with disk, and the half-written snapshot is gone, freeing the space.
                TestRecords.AssertContainsExactly([.. small, journaled], store.Records);
                Assert.False(File.Exists(dir.File(BaselineStore.SnapshotFileName + ".tmp")));
                Assert.Equal(digest, store.Digest);

                // A journal batch that does not fit fails the same way and is cut back off the journal.
                var journalLength = new FileInfo(dir.File(BaselineStore.JournalFileName)).Length;
                var bigBatch = big.Select(BaselineUpdate.Upsert).ToList();
                var j = Assert.Throws<BaselineWriteException>(() => store.Append(bigBatch));
                Assert.True(j.IsDiskFull);
                Assert.Equal(journalLength, new FileInfo(dir.File(BaselineStore.JournalFileName)).Length);
                TestRecords.AssertContainsExactly([.. small, journaled], store.Records);

                // Small writes still work once the failed ones are cleaned up.
                var later = TestRecords.Make(6, "/journaled");
                store.Append([BaselineUpdate.Upsert(later)]);
                small.Add(later);
            }

            using var reopened = BaselineStore.Open(dir.StateDir, key);
            Assert.Equal(0, reopened.TornJournalEntriesDropped);
            TestRecords.AssertContainsExactly([.. small, journaled], reopened.Records);
        }
        finally
        {
            Tmpfs.Unmount(mount);
        }
    }

    [TmpfsFact]
    public void FirstSaveOnAFullDiskLeavesAnEmptyStore()
    {
        using var dir = new TempDir();
        var mount = Path.Combine(dir.Path, "state");
        Assert.Null(Tmpfs.Mount(mount, "64k"));
        try
        {
            var key = BaselineKey.LoadOrCreate(dir.KeyFile);
            using (var store = BaselineStore.Open(dir.StateDir, key))
            {
                TestRecords.Many(5000).ForEach(store.Records.Set);
                Assert.Throws<BaselineWriteException>(() => store.Save(Meta));
                Assert.True(store.IsEmpty);
                Assert.Equal(0, store.Records.Count);
            }
            using var reopened = BaselineStore.Open(dir.StateDir, key);
            Assert.True(reopened.IsEmpty);
        }
        finally
        {
            Tmpfs.Unmount(mount);
        }
    }
}

using System.Buffers.Binary;
using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Core.Tests.Baseline;

/// <summary>
/// What a crash can leave behind, reproduced file by file: a half-written temporary snapshot or journal, a journal
/// torn inside an entry or inside a batch, a zero-filled tail, a journal left over from a compaction.
/// </summary>
public class BaselineCrashTests : IDisposable
{
    private static readonly Dictionary<string, string> Meta = new() { ["policy"] = "p1" };
    private readonly TempDir _dir = new();
    private readonly BaselineKey _key;
    private readonly List<FileRecord> _records = TestRecords.Many(100);

    public BaselineCrashTests()
    {
        _key = BaselineKey.LoadOrCreate(_dir.KeyFile);
        using var store = BaselineStore.Open(_dir.StateDir, _key);
        _records.ForEach(store.Records.Set);
        store.Save(Meta);
    }

    private string Journal => _dir.File(BaselineStore.JournalFileName);

    public void Dispose() => _dir.Dispose();

    /// <summary>Appends batches of new records under /var; returns them per batch.</summary>
    private List<List<FileRecord>> AppendBatches(params int[] sizes)
    {
        var batches = new List<List<FileRecord>>();
        using var store = BaselineStore.Open(_dir.StateDir, _key);
        var n = 0;
        foreach (var size in sizes)
        {
            var batch = Enumerable.Range(0, size).Select(_ => TestRecords.Make(50_000 + n++, "/var")).ToList();
            store.Append(batch.Select(BaselineUpdate.Upsert).ToList());
            batches.Add(batch);
        }
        return batches;
    }

    private long EntryEnd(int entries)
    {
        var bytes = File.ReadAllBytes(Journal);
        var pos = 74;
        for (var i = 0; i < entries; i++)
        {
            pos += 8 + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos)) + 32;
        }
        return pos;
    }

    [Theory]
    [InlineData(3)]    // inside the length fields
    [InlineData(20)]   // inside the body
    [InlineData(-5)]   // inside the MAC
    public void JournalTornInsideTheLastEntryDropsIt(int cut)
    {
        var batches = AppendBatches(2, 1);
        var lastStart = EntryEnd(2);
        var lastEnd = EntryEnd(3);
        StoreFiles.Truncate(Journal, cut >= 0 ? lastStart + cut : lastEnd + cut);

        using (var store = BaselineStore.Open(_dir.StateDir, _key))
        {
            Assert.Equal(1, store.TornJournalEntriesDropped);
            TestRecords.AssertContainsExactly([.. _records, .. batches[0]], store.Records);
            Assert.Equal(lastStart, new FileInfo(Journal).Length); // the tail was cut, so appends continue cleanly
            store.Append([BaselineUpdate.Upsert(batches[1][0])]);
        }
        using var reopened = BaselineStore.Open(_dir.StateDir, _key);
        Assert.Equal(0, reopened.TornJournalEntriesDropped);
        TestRecords.AssertContainsExactly([.. _records, .. batches[0], .. batches[1]], reopened.Records);
    }

    [Fact]
    public void JournalTornInsideABatchDropsTheWholeBatch()
    {
        var batches = AppendBatches(3, 4);
        // Keep the first batch and two complete entries of the second, plus half of its third entry.
        var cut = (EntryEnd(5) + EntryEnd(6)) / 2;
        StoreFiles.Truncate(Journal, cut);

        using var store = BaselineStore.Open(_dir.StateDir, _key);
        Assert.Equal(3, store.TornJournalEntriesDropped);
        TestRecords.AssertContainsExactly([.. _records, .. batches[0]], store.Records);
        Assert.Equal(3, store.JournalEntryCount);
    }

    [Fact]
    public void ZeroFilledJournalTailIsTornNotTampered()
    {
        var batches = AppendBatches(2);
        using (var f = new FileStream(Journal, FileMode.Append))
        {
            f.Write(new byte[4096]);
        }
        using var store = BaselineStore.Open(_dir.StateDir, _key);
        Assert.Equal(1, store.TornJournalEntriesDropped);
        TestRecords.AssertContainsExactly([.. _records, .. batches[0]], store.Records);
    }

    [Fact]
    public void StaleJournalLeftByACompactionCrashIsIgnored()
    {
        var batches = AppendBatches(2);
        var staleJournal = File.ReadAllBytes(Journal);
        using (var store = BaselineStore.Open(_dir.StateDir, _key))
        {
            store.Records.Remove(_records[0].Path);
            store.Save(Meta);
        }
        Assert.False(File.Exists(Journal));
        // A crash after the new snapshot was renamed into place but before the old journal was deleted.
        File.WriteAllBytes(Journal, staleJournal);

        var expected = _records.Skip(1).Concat(batches[0]).ToList();
        using (var store = BaselineStore.Open(_dir.StateDir, _key))
        {
            Assert.True(store.StaleJournalDiscarded);
            Assert.False(File.Exists(Journal));
            TestRecords.AssertContainsExactly(expected, store.Records);
            var added = TestRecords.Make(7, "/srv");
            store.Append([BaselineUpdate.Upsert(added)]);
            expected.Add(added);
        }
        using var reopened = BaselineStore.Open(_dir.StateDir, _key);
        Assert.False(reopened.StaleJournalDiscarded);
        TestRecords.AssertContainsExactly(expected, reopened.Records);
    }

    [Fact]
    public void HalfWrittenTemporaryFilesAndATornJournalLeaveTheOldState()
    {
        var batches = AppendBatches(1, 2);
        StoreFiles.Truncate(Journal, EntryEnd(2) + 10);
        // A crash while writing the next snapshot, and one while starting a journal.
        var snapshot = File.ReadAllBytes(_dir.File(BaselineStore.SnapshotFileName));
        File.WriteAllBytes(_dir.File(BaselineStore.SnapshotFileName + ".tmp"), snapshot.AsSpan(0, snapshot.Length / 2).ToArray());
        File.WriteAllBytes(_dir.File(BaselineStore.JournalFileName + ".tmp"), [1, 2, 3]);

        using var store = BaselineStore.Open(_dir.StateDir, _key);
        Assert.Equal(2, store.TornJournalEntriesDropped);
        TestRecords.AssertContainsExactly([.. _records, .. batches[0]], store.Records);
        Assert.False(File.Exists(_dir.File(BaselineStore.SnapshotFileName + ".tmp")));
        Assert.False(File.Exists(_dir.File(BaselineStore.JournalFileName + ".tmp")));
        Assert.Equal(
            [BaselineStore.JournalFileName, BaselineStore.SnapshotFileName, BaselineStore.LockFileName],
            Directory.GetFiles(_dir.StateDir).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray());
    }
}

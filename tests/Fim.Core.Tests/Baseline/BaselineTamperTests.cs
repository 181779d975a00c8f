using System.Buffers.Binary;
using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Core.Tests.Baseline;

/// <summary>Out-of-band edits of the store are refused on open with a message that says how to re-baseline.</summary>
public class BaselineTamperTests : IDisposable
{
    private static readonly Dictionary<string, string> Meta = new() { ["policy"] = "p1" };
    private readonly TempDir _dir = new();
    private readonly BaselineKey _key;
    private readonly List<FileRecord> _records = TestRecords.Many(300);

    public BaselineTamperTests()
    {
        _key = BaselineKey.LoadOrCreate(_dir.KeyFile);
        using var store = BaselineStore.Open(_dir.StateDir, _key);
        _records.ForEach(store.Records.Set);
        store.Save(Meta);
    }

    private string Snapshot => _dir.File(BaselineStore.SnapshotFileName);

    private string Journal => _dir.File(BaselineStore.JournalFileName);

    public void Dispose() => _dir.Dispose();

    private BaselineIntegrityException Refused(BaselineIntegrityProblem problem, BaselineKey? key = null)
    {
        var e = Assert.Throws<BaselineIntegrityException>(() => BaselineStore.Open(_dir.StateDir, key ?? _key).Dispose());
        Assert.Equal(problem, e.Problem);
        Assert.Contains("--rebaseline", e.Message);
        Assert.Contains("re-baseline", e.Message);
        // A refused open releases the lock, so `--rebaseline` can proceed.
        new FileStream(_dir.File(BaselineStore.LockFileName), FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose();
        return e;
    }

    /// <summary>Offsets of the records in the snapshot: magic, u32 header length, header, then u32-length-prefixed records.</summary>
    private List<(long Offset, int Length)> SnapshotRecords()
    {
        var bytes = File.ReadAllBytes(Snapshot);
        var pos = 12 + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        var result = new List<(long, int)>();
        for (var i = 0; i < _records.Count; i++)
        {
            var len = 4 + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos));
            result.Add((pos, len));
            pos += len;
        }
        return result;
    }

    /// <summary>Offsets of the journal entries: 74-byte header, then u32 length, u32 complement, body, 32-byte MAC.</summary>
    private List<(long Offset, int Length)> JournalEntries()
    {
        var bytes = File.ReadAllBytes(Journal);
        var result = new List<(long, int)>();
        for (var pos = 74; pos < bytes.Length;)
        {
            var len = 8 + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos)) + 32;
            result.Add((pos, len));
            pos += len;
        }
        return result;
    }

    private void AppendBatches(params int[] batchSizes)
    {
        using var store = BaselineStore.Open(_dir.StateDir, _key);
        var n = 0;
        foreach (var size in batchSizes)
        {
            store.Append(Enumerable.Range(0, size).Select(_ => BaselineUpdate.Upsert(TestRecords.Make(10_000 + n++, "/var"))).ToList());
        }
    }

    [Fact]
    public void UntouchedStoreOpens()
    {
        AppendBatches(2, 3);
        using var store = BaselineStore.Open(_dir.StateDir, _key);
        Assert.Equal(305, store.Records.Count);
    }

    [Theory]
    [InlineData("header")]
    [InlineData("first record")]
    [InlineData("middle record")]
    [InlineData("last record")]
    [InlineData("seal count")]
    [InlineData("mac")]
    public void FlippedByteInTheSnapshotIsRefused(string where)
    {
        var records = SnapshotRecords();
        var length = new FileInfo(Snapshot).Length;
        long offset = where switch
        {
            "header" => 14,
            "first record" => records[0].Offset + 20,
            "middle record" => records[150].Offset + records[150].Length / 2,
            "last record" => records[^1].Offset + records[^1].Length - 1,
            "seal count" => length - 32 - 4,
            _ => length - 1,
        };
        StoreFiles.FlipByte(Snapshot, offset);
        var e = Refused(BaselineIntegrityProblem.Tampered);
        Assert.Contains(Snapshot, e.Message);
    }

    [Fact]
    public void FlippedKeyIdInTheHeaderIsRefused()
    {
        // header: version u16, created i64, nonce 16, count i64, then the key id
        StoreFiles.FlipByte(Snapshot, 12 + 2 + 8 + 16 + 8);
        Refused(BaselineIntegrityProblem.WrongKey);
    }

    [Fact]
    public void RemovedRecordIsRefused()
    {
        var (offset, length) = SnapshotRecords()[100];
        StoreFiles.RemoveRange(Snapshot, offset, length);
        Refused(BaselineIntegrityProblem.Tampered);
    }

    [Fact]
    public void RemovedRecordWithPatchedCountsIsRefused()
    {
        var (offset, length) = SnapshotRecords()[100];
        StoreFiles.RemoveRange(Snapshot, offset, length);
        var bytes = File.ReadAllBytes(Snapshot);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(12 + 2 + 8 + 16), _records.Count - 1);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(bytes.Length - 40), _records.Count - 1);
        File.WriteAllBytes(Snapshot, bytes);
        var e = Refused(BaselineIntegrityProblem.Tampered);
        Assert.Contains("does not match its seal", e.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.001)]
    [InlineData(0.5)]
    [InlineData(0.9999)]
    public void TruncatedSnapshotIsRefused(double keep)
    {
        var length = new FileInfo(Snapshot).Length;
        StoreFiles.Truncate(Snapshot, Math.Min(length - 1, (long)(length * keep)));
        var e = Refused(BaselineIntegrityProblem.Truncated);
        Assert.Contains("truncated", e.Message);
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(1, 1)]
    public void SealedSnapshotWithUnsortedOrDuplicatePathsIsRefused(int first, int second)
    {
        // Only a writer holding the key can produce this (a bug, or a forged store): the seal verifies, the order does not.
        using (var file = new FileStream(Snapshot, FileMode.Create))
        {
            SnapshotFile.Write(file, _key, [TestRecords.Make(first), TestRecords.Make(second)], Meta, DateTimeOffset.UtcNow);
        }
        var e = Refused(BaselineIntegrityProblem.Tampered);
        Assert.Contains("out of order or duplicated", e.Message);
    }

    [Fact]
    public void AppendedBytesAreRefused()
    {
        File.AppendAllText(Snapshot, "x");
        Refused(BaselineIntegrityProblem.Tampered);
    }

    [Fact]
    public void OpeningWithAnotherKeyIsRefused()
    {
        using var other = new TempDir();
        var otherKey = BaselineKey.LoadOrCreate(other.KeyFile);
        var e = Refused(BaselineIntegrityProblem.WrongKey, otherKey);
        Assert.Contains("key does not match", e.Message);
        Assert.Contains(otherKey.KeyId, e.Message);
        Assert.Contains(_key.KeyId, e.Message);
    }

    [Fact]
    public void SnapshotReplacedByOneSealedWithAnotherKeyIsRefused()
    {
        using var other = new TempDir();
        using (var store = BaselineStore.Open(other.StateDir, BaselineKey.LoadOrCreate(other.KeyFile)))
        {
            store.Records.Set(TestRecords.Make(1));
            store.Save(Meta);
        }
        File.Copy(other.File(BaselineStore.SnapshotFileName), Snapshot, overwrite: true);
        var e = Refused(BaselineIntegrityProblem.WrongKey);
        Assert.Contains("key does not match", e.Message);
    }

    [Fact]
    public void RollbackToAnOlderSealedSnapshotIsNotDetectedLocallyButChangesTheDigest()
    {
        // The documented limit of a local seal: an older sealed state verifies. The digest a heartbeat reports
        // changes, which is how the centre notices.
        var old = File.ReadAllBytes(Snapshot);
        string newer;
        using (var store = BaselineStore.Open(_dir.StateDir, _key))
        {
            store.Records.Remove(_records[0].Path);
            store.Save(Meta);
            store.Append([BaselineUpdate.Upsert(TestRecords.Make(1, "/x"))]);
            newer = store.Digest;
        }
        File.WriteAllBytes(Snapshot, old);
        using var reopened = BaselineStore.Open(_dir.StateDir, _key);
        Assert.True(reopened.StaleJournalDiscarded);
        Assert.True(reopened.Records.TryGet(_records[0].Path, out _));
        Assert.NotEqual(newer, reopened.Digest);
    }

    [Theory]
    [InlineData(0, 1)]    // length field of the first entry
    [InlineData(0, 30)]   // body of the first entry
    [InlineData(2, 40)]   // body of an entry in the middle of the last batch
    [InlineData(-1, 12)]  // body of the last entry
    [InlineData(-1, -1)]  // last byte of the last entry's MAC
    public void FlippedByteInACompleteJournalEntryIsRefused(int entry, int at)
    {
        AppendBatches(1, 4);
        var entries = JournalEntries();
        var (offset, length) = entries[entry < 0 ? entries.Count + entry : entry];
        StoreFiles.FlipByte(Journal, offset + (at < 0 ? length + at : at));
        var e = Refused(BaselineIntegrityProblem.Tampered);
        Assert.Contains(Journal, e.Message);
    }

    [Fact]
    public void FlippedByteInTheJournalHeaderIsRefused()
    {
        AppendBatches(1);
        StoreFiles.FlipByte(Journal, 20);
        Refused(BaselineIntegrityProblem.Tampered);
    }

    [Fact]
    public void RemovedJournalEntryIsRefused()
    {
        AppendBatches(1, 1, 1);
        var (offset, length) = JournalEntries()[1];
        StoreFiles.RemoveRange(Journal, offset, length);
        var e = Refused(BaselineIntegrityProblem.Tampered);
        Assert.Contains("entry 1", e.Message);
    }

    [Fact]
    public void JournalWithoutItsSnapshotIsRefused()
    {
        AppendBatches(1);
        File.Delete(Snapshot);
        Refused(BaselineIntegrityProblem.MissingSnapshot);
    }
}

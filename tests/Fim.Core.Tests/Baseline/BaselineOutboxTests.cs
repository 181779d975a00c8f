using System.Text;
using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Core.Tests.Baseline;

/// <summary>
/// The outbox inside the baseline store: events journaled in the same batch as the updates they report, removed
/// only by an acknowledgement, carried through compaction, dropped whole with a torn batch, sealed like the rest.
/// </summary>
public class BaselineOutboxTests : IDisposable
{
    private static readonly Dictionary<string, string> Meta = new() { ["policy"] = "p1" };
    private readonly TempDir _dir = new();
    private readonly BaselineKey _key;

    public BaselineOutboxTests()
    {
        _key = BaselineKey.LoadOrCreate(_dir.KeyFile);
        using var store = BaselineStore.Open(_dir.StateDir, _key);
        TestRecords.Many(20).ForEach(store.Records.Set);
        store.Save(Meta);
    }

    public void Dispose() => _dir.Dispose();

    private string Journal => _dir.File(BaselineStore.JournalFileName);

    private string Snapshot => _dir.File(BaselineStore.SnapshotFileName);

    private static OutboxMessage Message(int i) =>
        new($"agent-a:boot1:{i}", i % 2 == 0 ? $"00-{i:x32}-{i:x16}-01" : null, Encoding.UTF8.GetBytes($"{{\"eventId\":\"agent-a:boot1:{i}\",\"pad\":\"{new string('x', i)}\"}}"));

    private BaselineStore Open() => BaselineStore.Open(_dir.StateDir, _key);

    [Fact]
    public void Events_appended_with_updates_survive_a_reopen_until_acknowledged()
    {
        var record = TestRecords.Make(1000, "/srv");
        using (var store = Open())
        {
            var queued = store.Append([BaselineUpdate.Upsert(record)], [Message(1), Message(2)]);
            Assert.Equal(2, queued.Count);
            Assert.True(queued[1].Sequence > queued[0].Sequence);
            Assert.Equal(2, store.PendingEventCount);
        }
        using (var store = Open())
        {
            Assert.True(store.Records.TryGet(record.Path, out _));
            var pending = store.PeekPendingEvents(10);
            Assert.Equal(["agent-a:boot1:1", "agent-a:boot1:2"], pending.Select(e => e.MessageId));
            Assert.Null(pending[0].TraceParent);
            Assert.Equal(Message(2).TraceParent, pending[1].TraceParent);
            Assert.Equal(Message(2).Payload, pending[1].Payload);
            store.Acknowledge([pending[0].Sequence]);
            Assert.Equal(1, store.PendingEventCount);
        }
        using (var store = Open())
        {
            Assert.Equal(["agent-a:boot1:2"], store.PeekPendingEvents(10).Select(e => e.MessageId));
            store.Acknowledge([store.PeekPendingEvents(1)[0].Sequence, 9999]);
        }
        using (var reopened = Open())
        {
            Assert.Equal(0, reopened.PendingEventCount);
            Assert.Equal(0, reopened.PendingEventBytes);
        }
    }

    [Fact]
    public void Compaction_carries_pending_events_into_the_snapshot_and_acknowledged_ones_are_gone()
    {
        using (var store = Open())
        {
            var queued = store.Append([BaselineUpdate.Upsert(TestRecords.Make(2000, "/srv"))], [Message(1), Message(2), Message(3)]);
            store.Acknowledge([queued[1].Sequence]);
            var saved = store.Save(Meta, [Message(4)]);
            Assert.Single(saved);
            Assert.False(File.Exists(Journal));
        }
        // A snapshot with waiting events is format version 2; the events are inside its seal.
        Assert.Equal(2, BitConverter.ToUInt16(File.ReadAllBytes(Snapshot), 12));
        using (var store = Open())
        {
            var pending = store.PeekPendingEvents(10);
            Assert.Equal(["agent-a:boot1:1", "agent-a:boot1:3", "agent-a:boot1:4"], pending.Select(e => e.MessageId));
            // New sequences never collide with the ones carried over.
            var next = store.Append([BaselineUpdate.Upsert(TestRecords.Make(2001, "/srv"))], [Message(5)]);
            Assert.True(next[0].Sequence > pending.Max(e => e.Sequence));
            store.Acknowledge([.. store.PeekPendingEvents(10).Select(e => e.Sequence)]);
            store.Save(Meta);
        }
        Assert.Equal(1, BitConverter.ToUInt16(File.ReadAllBytes(Snapshot), 12));
        using var empty = Open();
        Assert.Equal(0, empty.PendingEventCount);
    }

    [Fact]
    public void A_batch_torn_by_a_crash_loses_its_updates_and_its_events_together()
    {
        var kept = TestRecords.Make(3000, "/srv");
        var torn = TestRecords.Make(3001, "/srv");
        long before;
        using (var store = Open())
        {
            store.Append([BaselineUpdate.Upsert(kept)], [Message(1)]);
            before = new FileInfo(Journal).Length;
            store.Append([BaselineUpdate.Upsert(torn)], [Message(2), Message(3)]);
        }
        // Cut inside the last event entry: the crash happened before the batch was complete.
        StoreFiles.Truncate(Journal, new FileInfo(Journal).Length - 10);
        using var reopened = Open();
        Assert.True(reopened.Records.TryGet(kept.Path, out _));
        Assert.False(reopened.Records.TryGet(torn.Path, out _));
        Assert.Equal(["agent-a:boot1:1"], reopened.PeekPendingEvents(10).Select(e => e.MessageId));
        Assert.Equal(before, new FileInfo(Journal).Length);
    }

    [Fact]
    public void A_modified_event_in_the_journal_is_refused()
    {
        using (var store = Open())
        {
            store.Append([BaselineUpdate.Upsert(TestRecords.Make(4000, "/srv"))], [Message(7)]);
        }
        var bytes = File.ReadAllBytes(Journal);
        var at = bytes.AsSpan().IndexOf("xxxxxxx"u8);
        Assert.True(at > 0);
        StoreFiles.FlipByte(Journal, at);
        var e = Assert.Throws<BaselineIntegrityException>(Open);
        Assert.Equal(BaselineIntegrityProblem.Tampered, e.Problem);
    }

    [Fact]
    public void A_modified_event_in_the_snapshot_is_refused()
    {
        using (var store = Open())
        {
            store.Save(Meta, [Message(9)]);
        }
        var at = File.ReadAllBytes(Snapshot).AsSpan().IndexOf("xxxxxxxxx"u8);
        Assert.True(at > 0);
        StoreFiles.FlipByte(Snapshot, at);
        var e = Assert.Throws<BaselineIntegrityException>(Open);
        Assert.Equal(BaselineIntegrityProblem.Tampered, e.Problem);
    }

    [Fact]
    public void A_removed_acknowledgement_is_detected_by_the_chain()
    {
        long afterEvents;
        using (var store = Open())
        {
            var q = store.Append([BaselineUpdate.Upsert(TestRecords.Make(5000, "/srv"))], [Message(1)]);
            afterEvents = new FileInfo(Journal).Length;
            store.Acknowledge([q[0].Sequence]);
            store.Append([BaselineUpdate.Upsert(TestRecords.Make(5001, "/srv"))], []);
        }
        // The acknowledgement entry: length fields, kind, count 1, one sequence, MAC. Without it the event would be resent.
        StoreFiles.RemoveRange(Journal, afterEvents, 8 + 1 + 1 + 8 + 32);
        Assert.Throws<BaselineIntegrityException>(Open);
    }
}

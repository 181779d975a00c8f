using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Core.Tests.Baseline;

/// <summary>
/// The seal shows edits, not deletion or replay: the anchor beside the key remembers which baseline each state
/// directory holds, so a missing, older or foreign snapshot is refused, and a re-baseline is reported.
/// </summary>
public sealed class BaselineAnchorTests : IDisposable
{
    private static readonly Dictionary<string, string> Meta = new() { ["policy"] = "p1" };
    private readonly TempDir _dir = new();
    private readonly BaselineKey _key;
    private readonly BaselineAnchor _anchor;

    public BaselineAnchorTests()
    {
        _key = BaselineKey.LoadOrCreate(_dir.KeyFile);
        _anchor = new BaselineAnchor(BaselineAnchor.PathFor(_dir.KeyFile), _key);
    }

    public void Dispose() => _dir.Dispose();

    private BaselineStore Open(string? dir = null, BaselineReset? reset = null) => BaselineStore.Open(dir ?? _dir.StateDir, _key, _anchor, reset);

    private void SaveOne(int i, string? dir = null)
    {
        using var store = Open(dir);
        store.Records.Set(TestRecords.Make(i));
        store.Save(Meta);
    }

    private BaselineIntegrityException Refused(BaselineIntegrityProblem problem, string? dir = null)
    {
        var e = Assert.Throws<BaselineIntegrityException>(() => Open(dir).Dispose());
        Assert.Equal(problem, e.Problem);
        Assert.Contains("--rebaseline", e.Message);
        // A refused open releases the directory lock.
        new FileStream(Path.Combine(dir ?? _dir.StateDir, BaselineStore.LockFileName), FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose();
        return e;
    }

    [Fact]
    public void Each_save_counts_a_generation_in_the_snapshot_and_the_anchor()
    {
        SaveOne(1);
        SaveOne(2);
        using var store = Open();
        Assert.Equal("2", store.Metadata[BaselineStore.GenerationKey]);
        var entry = _anchor.Get(_dir.StateDir)!;
        Assert.Equal(2, entry.Generation);
        Assert.Equal(store.Metadata[BaselineStore.StoreIdKey], entry.StoreId);
        Assert.Null(store.PendingReset);
    }

    [Fact]
    public void A_deleted_snapshot_is_refused_as_missing()
    {
        SaveOne(1);
        File.Delete(_dir.File(BaselineStore.SnapshotFileName));
        var e = Refused(BaselineIntegrityProblem.Missing);
        Assert.Contains("it was deleted", e.Message);
    }

    [Fact]
    public void An_older_copy_is_refused()
    {
        SaveOne(1);
        var old = File.ReadAllBytes(_dir.File(BaselineStore.SnapshotFileName));
        SaveOne(2);
        File.WriteAllBytes(_dir.File(BaselineStore.SnapshotFileName), old);
        var e = Refused(BaselineIntegrityProblem.Older);
        Assert.Contains("generation 1", e.Message);
    }

    [Fact]
    public void A_snapshot_of_another_state_directory_sealed_with_the_same_key_is_refused_as_foreign()
    {
        var other = Path.Combine(_dir.Path, "other");
        SaveOne(1, other);
        SaveOne(1);
        File.Copy(Path.Combine(other, BaselineStore.SnapshotFileName), _dir.File(BaselineStore.SnapshotFileName), overwrite: true);
        Refused(BaselineIntegrityProblem.Foreign);
    }

    [Fact]
    public void A_reset_opens_empty_remembers_what_it_replaces_and_the_next_save_continues_the_count()
    {
        SaveOne(1);
        SaveOne(2);
        BaselineStore.Discard(_dir.StateDir);
        using (var store = Open(reset: new BaselineReset(BaselineReset.Requested, "test", null)))
        {
            Assert.True(store.IsEmpty);
            Assert.Equal(BaselineReset.Requested, store.PendingReset!.Reason);
            Assert.Equal(2, store.PendingReset.Previous!.Generation);
            store.Records.Set(TestRecords.Make(3));
            store.Save(Meta);
            Assert.Null(store.PendingReset);
        }
        var entry = _anchor.Get(_dir.StateDir)!;
        Assert.Equal(3, entry.Generation);
        using var reopened = Open();
        Assert.Single(reopened.Records.All);
    }

    [Fact]
    public void A_snapshot_saved_just_before_a_crash_kept_the_anchor_behind_is_accepted_and_anchored()
    {
        SaveOne(1);
        var behind = File.ReadAllBytes(_anchor.FilePath);
        SaveOne(2);
        File.WriteAllBytes(_anchor.FilePath, behind); // as if the process died between the snapshot rename and the anchor write
        using (var store = Open())
        {
            Assert.False(store.IsEmpty);
        }
        Assert.Equal(2, _anchor.Get(_dir.StateDir)!.Generation);
    }

    [Fact]
    public void A_baseline_the_anchor_does_not_know_is_anchored_on_open()
    {
        using (var store = BaselineStore.Open(_dir.StateDir, _key))
        {
            store.Records.Set(TestRecords.Make(1));
            store.Save(Meta);
        }
        Assert.Null(_anchor.Get(_dir.StateDir));
        Open().Dispose();
        Assert.Equal(1, _anchor.Get(_dir.StateDir)!.Generation);
        File.Delete(_dir.File(BaselineStore.SnapshotFileName));
        Refused(BaselineIntegrityProblem.Missing);
    }

    [Fact]
    public void An_edited_anchor_or_one_sealed_with_another_key_is_refused()
    {
        SaveOne(1);
        var text = File.ReadAllText(_anchor.FilePath);
        File.WriteAllText(_anchor.FilePath, text.Replace(" 1 ", " 5 ", StringComparison.Ordinal));
        Assert.Equal(BaselineIntegrityProblem.Tampered, Assert.Throws<BaselineIntegrityException>(() => _anchor.Get(_dir.StateDir)).Problem);

        var otherKey = BaselineKey.LoadOrCreate(Path.Combine(_dir.Path, "other.key"));
        File.WriteAllText(_anchor.FilePath, text);
        Assert.Equal(BaselineIntegrityProblem.WrongKey,
            Assert.Throws<BaselineIntegrityException>(() => new BaselineAnchor(_anchor.FilePath, otherKey).Get(_dir.StateDir)).Problem);
    }

    [Fact]
    public void An_anchor_that_cannot_be_written_is_a_warning_not_a_failed_save()
    {
        var readOnly = Path.Combine(_dir.Path, "no-such-dir", "sub", "anchor");
        File.WriteAllText(Path.Combine(_dir.Path, "no-such-dir"), "a file where a directory should be");
        using var store = BaselineStore.Open(_dir.StateDir, _key, new BaselineAnchor(readOnly, _key), null);
        store.Records.Set(TestRecords.Make(1));
        store.Save(Meta);
        Assert.Contains("cannot record the baseline in the anchor", store.TakeAnchorWarning());
        store.Save(Meta);
        Assert.Null(store.TakeAnchorWarning()); // once, not at every save
    }

    [Fact]
    public void Stores_sharing_a_key_keep_their_own_entries()
    {
        var other = Path.Combine(_dir.Path, "other");
        SaveOne(1);
        SaveOne(1, other);
        SaveOne(2, other);
        Assert.Equal(1, _anchor.Get(_dir.StateDir)!.Generation);
        Assert.Equal(2, _anchor.Get(other)!.Generation);
    }
}

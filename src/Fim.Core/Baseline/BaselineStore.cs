using System.Security.Cryptography;
using Fim.Core.Model;

namespace Fim.Core.Baseline;

/// <summary>
/// The agent's baseline on disk: a sealed snapshot plus an append-only journal of updates, in a state directory
/// held under an exclusive lock. Crash-safe (a snapshot is replaced by rename, a journal batch counts only when
/// complete) and tamper-evident (everything is sealed with HMAC-SHA256 under a key kept outside the directory).
/// </summary>
/// <remarks>
/// What the seal cannot show: a rollback to an earlier sealed state (an older copy of the files, the journal
/// removed or cut short at an entry boundary, or the whole state directory removed, which opens as empty).
/// A <see cref="BaselineAnchor"/> given to <see cref="Open"/> shows a removed, older or foreign snapshot;
/// <see cref="Digest"/> lets a central service that remembers the last digest notice a cut journal too.
/// </remarks>
public sealed class BaselineStore : IDisposable
{
    public const string SnapshotFileName = "baseline.snap";
    public const string JournalFileName = "baseline.journal";
    public const string LockFileName = "lock";
    private const string TempSuffix = ".tmp";
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = OwnerOnlyFile | UnixFileMode.UserExecute;
    /// <summary>Snapshot metadata the store itself writes: which store this is and how many snapshots it has saved.</summary>
    public const string StoreIdKey = "fim.storeId";
    public const string GenerationKey = "fim.generation";

    private readonly BaselineKey _key;
    private BaselineAnchor? _anchor;
    private AnchorEntry? _anchored;
    private readonly FileStream _lock;
    private readonly Lock _gate = new();
    // Every journal write goes through this one buffer (under _gate): a new 64 KB one per realtime change was most of
    // what a watching agent allocated per event.
    private readonly byte[] _journalBuffer = new byte[64 << 10];
    private readonly PendingEvents _outbox;
    private byte[]? _snapshotMac;
    private byte[]? _headMac;
    private FileStream? _journal;
    private string? _unusable;
    private bool _disposed;

    private BaselineStore(string directory, BaselineKey key, FileStream lockFile, BaselineRecords records, PendingEvents outbox)
    {
        StateDirectory = directory;
        _key = key;
        _lock = lockFile;
        Records = records;
        _outbox = outbox;
    }

    /// <summary>Events in the outbox, not acknowledged yet.</summary>
    public int PendingEventCount
    {
        get
        {
            lock (_gate)
            {
                return _outbox.Count;
            }
        }
    }

    /// <summary>Bytes held by the events in the outbox.</summary>
    public long PendingEventBytes
    {
        get
        {
            lock (_gate)
            {
                return _outbox.Bytes;
            }
        }
    }

    /// <summary>The oldest events waiting in the outbox, oldest first.</summary>
    public IReadOnlyList<OutboxEvent> PeekPendingEvents(int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        lock (_gate)
        {
            return _outbox.Oldest(max);
        }
    }

    public string StateDirectory { get; }

    /// <summary>The key the store is sealed with, for files kept beside it (content copies, growth checkpoints).</summary>
    internal BaselineKey Key => _key;

    /// <summary>No baseline has been recorded yet (no snapshot).</summary>
    public bool IsEmpty => _snapshotMac is null;

    /// <summary>The current records. The same instance for the store's lifetime.</summary>
    public BaselineRecords Records { get; }

    /// <summary>The metadata given to the last <see cref="Save"/>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; private set; } = new Dictionary<string, string>().AsReadOnly();

    /// <summary>When the current snapshot was written (millisecond precision); null when <see cref="IsEmpty"/>.</summary>
    public DateTimeOffset? CreatedAt { get; private set; }

    /// <summary>
    /// Set when this store was opened to replace a baseline the anchor remembered (a re-baseline): the next
    /// <see cref="Save"/> records the new one and clears it. Whoever reports resets reads it before that save.
    /// </summary>
    public BaselineReset? PendingReset { get; private set; }

    /// <summary>
    /// Why the anchor could not be written (e.g. a read-only key directory), once per store: the first call after a
    /// failure returns it, later calls return null until it has been written again and fails anew.
    /// </summary>
    public string? TakeAnchorWarning()
    {
        lock (_gate)
        {
            var warning = _anchorWarning;
            _anchorWarning = null;
            return warning;
        }
    }

    private string? _anchorWarning;
    private bool _anchorFailing;

    /// <summary>Journal entries dropped on open because a crash tore the end of the journal; worth a log line.</summary>
    public int TornJournalEntriesDropped { get; private set; }

    /// <summary>A journal left by a crash during compaction, extending an older snapshot, was discarded on open.</summary>
    public bool StaleJournalDiscarded { get; private set; }

    /// <summary>Updates in the journal since the snapshot; the caller may <see cref="Save"/> to compact when it grows.</summary>
    public int JournalEntryCount { get; private set; }

    public long JournalBytes
    {
        get
        {
            lock (_gate)
            {
                return _disposed ? 0 : _journal?.Length ?? 0;
            }
        }
    }

    /// <summary>
    /// Hex SHA-256 of the sealed state (snapshot MAC and the MAC at the head of the journal), for heartbeats;
    /// it changes with every save and append. Empty when <see cref="IsEmpty"/>.
    /// </summary>
    public string Digest
    {
        get
        {
            lock (_gate)
            {
                if (_snapshotMac is null)
                {
                    return string.Empty;
                }
                return Convert.ToHexStringLower(SHA256.HashData([.. _snapshotMac, .. _headMac!]));
            }
        }
    }

    /// <summary>
    /// Opens (creating with mode 0700 if needed) and locks the state directory, and loads and verifies the baseline.
    /// </summary>
    /// <exception cref="BaselineIntegrityException">The stored baseline was modified, is damaged, or was sealed with another key.</exception>
    /// <exception cref="BaselineLockedException">Another process holds the state directory.</exception>
    public static BaselineStore Open(string stateDir, BaselineKey key) => Open(stateDir, key, null, null);

    /// <summary>
    /// <see cref="Open(string, BaselineKey)"/> checked against <paramref name="anchor"/>: a baseline that is missing,
    /// older or foreign by what the anchor remembers is refused (<see cref="BaselineIntegrityException"/> with
    /// <see cref="BaselineIntegrityProblem.Missing"/>, <see cref="BaselineIntegrityProblem.Older"/> or
    /// <see cref="BaselineIntegrityProblem.Foreign"/>) unless <paramref name="reset"/> is given: then an empty store
    /// the anchor knows opens with <see cref="PendingReset"/> set (the caller has discarded the old one).
    /// </summary>
    public static BaselineStore Open(string stateDir, BaselineKey key, BaselineAnchor? anchor, BaselineReset? reset)
    {
        var directory = Path.GetFullPath(stateDir);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        }
        var lockFile = AcquireLock(directory);
        BaselineStore? store = null;
        try
        {
            // Left by a crash while saving or starting a journal; never part of the baseline.
            File.Delete(Path.Combine(directory, SnapshotFileName + TempSuffix));
            File.Delete(Path.Combine(directory, JournalFileName + TempSuffix));
            var loaded = Load(directory, key, lockFile);
            if (anchor is not null)
            {
                try
                {
                    loaded._anchor = anchor;
                    loaded.CheckAnchor(reset);
                }
                catch
                {
                    loaded.Dispose();
                    throw;
                }
            }
            store = loaded;
            return store;
        }
        finally
        {
            if (store is null)
            {
                lockFile.Dispose();
            }
        }
    }

    /// <summary>For a re-baseline: removes the snapshot and the journal (not the key), under the directory lock.</summary>
    /// <exception cref="BaselineLockedException">An agent holds the state directory.</exception>
    public static void Discard(string stateDir)
    {
        var directory = Path.GetFullPath(stateDir);
        if (!Directory.Exists(directory))
        {
            return;
        }
        using var lockFile = AcquireLock(directory);
        // The journal goes first: a crash in between leaves a consistent old baseline, never a journal without its snapshot.
        foreach (var name in new[] { JournalFileName, JournalFileName + TempSuffix, SnapshotFileName + TempSuffix, SnapshotFileName })
        {
            File.Delete(Path.Combine(directory, name));
        }
        DirectorySync.Flush(directory);
    }

    /// <summary>
    /// Writes a new snapshot of <see cref="Records"/> (including edits made through <see cref="BaselineRecords.Set"/>
    /// and <see cref="BaselineRecords.Remove"/>) and drops the journal it supersedes. One fsync of the file and one
    /// of the directory. On failure the baseline on disk is unchanged and the uncommitted edits in
    /// <see cref="Records"/> are rolled back, so memory matches disk again.
    /// </summary>
    /// <exception cref="BaselineWriteException">Writing failed (e.g. disk full); the previous baseline is intact and still loaded.</exception>
    public void Save(IReadOnlyDictionary<string, string> metadata) => Save(metadata, []);

    /// <summary>
    /// <see cref="Save(IReadOnlyDictionary{string, string})"/> that also puts <paramref name="events"/> (the events
    /// reporting the edits being saved) into the outbox, in the same atomic snapshot. Events already waiting are
    /// carried into the new snapshot.
    /// </summary>
    /// <returns>The events as queued, with their sequences.</returns>
    public IReadOnlyList<OutboxEvent> Save(IReadOnlyDictionary<string, string> metadata, IReadOnlyList<OutboxMessage> events)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(events);
        lock (_gate)
        {
            ThrowIfUnusable();
            var queued = _outbox.Assign(events);
            var meta = new Dictionary<string, string>(metadata, StringComparer.Ordinal);
            var (storeId, generation) = NextIdentity();
            meta[StoreIdKey] = storeId;
            meta[GenerationKey] = generation.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var snapshotPath = Path.Combine(StateDirectory, SnapshotFileName);
            var tempPath = snapshotPath + TempSuffix;
            var createdAt = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            var commit = Records.BeginCommit();
            foreach (var e in queued)
            {
                _outbox.Add(e);
            }
            byte[] mac;
            try
            {
                using (var file = new FileStream(tempPath, NewFileOptions(FileMode.Create, FileAccess.Write)))
                {
                    mac = SnapshotFile.Write(file, _key, commit.Records, meta, createdAt, [.. _outbox.All]);
                    file.Flush(flushToDisk: true);
                }
                File.Move(tempPath, snapshotPath, overwrite: true);
            }
            catch (Exception e)
            {
                TryDelete(tempPath);
                Records.AbortCommit(commit);
                foreach (var q in queued)
                {
                    _outbox.Remove(q.Sequence);
                }
                if (e is IOException or UnauthorizedAccessException)
                {
                    throw BaselineWriteException.From(snapshotPath, e,
                        "The previous baseline is intact on disk, and the unsaved changes were rolled back in memory.");
                }
                throw;
            }
            Records.EndCommit();

            // The new snapshot is in place: the old journal extends the old snapshot and is stale from now on.
            _journal?.Dispose();
            _journal = null;
            _snapshotMac = mac;
            _headMac = mac;
            JournalEntryCount = 0;
            Metadata = meta.AsReadOnly();
            CreatedAt = createdAt;
            try
            {
                DirectorySync.Flush(StateDirectory);
            }
            catch (IOException e)
            {
                _unusable = $"making the new snapshot {snapshotPath} durable failed ({e.Message}); reopen the store";
                throw BaselineWriteException.From(StateDirectory, e,
                    "The new baseline may or may not survive a crash; close and reopen the store, which loads whichever is on disk.");
            }
            // Best effort: a journal left behind is stale and discarded on the next open or replaced by the next append.
            TryDelete(Path.Combine(StateDirectory, JournalFileName));
            // After the snapshot: a crash in between leaves a snapshot one generation ahead of the anchor, which opens.
            RecordInAnchor(new AnchorEntry(storeId, generation, Convert.ToHexStringLower(mac), createdAt));
            PendingReset = null;
            return queued;
        }
    }

    private (string StoreId, long Generation) NextIdentity()
    {
        var generation = Math.Max(GenerationOf(Metadata), _anchored?.Generation ?? 0) + 1;
        // A first snapshot (or the first after a re-baseline) is a new store; later ones keep its id.
        var storeId = _snapshotMac is not null && Metadata.TryGetValue(StoreIdKey, out var id) ? id : Guid.NewGuid().ToString("N");
        return (storeId, generation);
    }

    private static long GenerationOf(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue(GenerationKey, out var g) && long.TryParse(g, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;

    private void RecordInAnchor(AnchorEntry entry)
    {
        if (_anchor is null)
        {
            return;
        }
        try
        {
            _anchor.Set(StateDirectory, entry);
            _anchored = entry;
            _anchorFailing = false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BaselineIntegrityException)
        {
            if (_anchorFailing)
            {
                return;
            }
            _anchorFailing = true;
            _anchorWarning = $"cannot record the baseline in the anchor {_anchor.FilePath} ({e.Message}): a deleted, older or " +
                "foreign baseline will not be detected until it can be written (make its directory writable, or set FIM_ANCHOR_FILE)";
        }
    }

    /// <summary>Compares what was loaded with what the anchor remembers; refuses, accepts a reset, or anchors a baseline it did not know.</summary>
    private void CheckAnchor(BaselineReset? reset)
    {
        var anchor = _anchor!;
        AnchorEntry? entry;
        try
        {
            entry = anchor.Get(StateDirectory);
        }
        catch (BaselineIntegrityException) when (reset is not null)
        {
            // A re-baseline replaces a damaged anchor; other stores' entries are re-anchored on their next open.
            File.Delete(anchor.FilePath);
            entry = null;
        }
        _anchored = entry;
        var snapshotPath = Path.Combine(StateDirectory, SnapshotFileName);
        if (_snapshotMac is null)
        {
            if (entry is null)
            {
                return;
            }
            if (reset is not null)
            {
                PendingReset = reset with { Previous = entry };
                return;
            }
            throw new BaselineIntegrityException(snapshotPath, BaselineIntegrityProblem.Missing,
                $"there is no baseline, but the anchor {anchor.FilePath} says one was saved at {entry.SavedAt:u} " +
                $"(generation {entry.Generation}): it was deleted, and the changes made since would go unreported");
        }
        var generation = GenerationOf(Metadata);
        Metadata.TryGetValue(StoreIdKey, out var storeId);
        if (entry is null || (storeId == entry.StoreId && generation > entry.Generation))
        {
            // Unknown to the anchor (first run with one, or the anchor was lost), or saved just before a crash kept
            // the anchor from following: anchor what is here.
            RecordInAnchor(new AnchorEntry(storeId ?? "", generation, Convert.ToHexStringLower(_snapshotMac), CreatedAt ?? DateTimeOffset.UtcNow));
            return;
        }
        if (storeId != entry.StoreId)
        {
            throw new BaselineIntegrityException(snapshotPath, BaselineIntegrityProblem.Foreign,
                $"it is not the baseline this host recorded here (store {storeId ?? "without an id"}, the anchor {anchor.FilePath} " +
                $"expects store {entry.StoreId}): it was copied from another host or state directory");
        }
        if (generation < entry.Generation)
        {
            throw new BaselineIntegrityException(snapshotPath, BaselineIntegrityProblem.Older,
                $"it is an older copy (generation {generation}, saved at {CreatedAt:u}) than the one the anchor {anchor.FilePath} " +
                $"remembers (generation {entry.Generation}, saved at {entry.SavedAt:u}): it was restored or replayed");
        }
        if (!string.Equals(Convert.ToHexStringLower(_snapshotMac), entry.SnapshotMac, StringComparison.Ordinal))
        {
            throw new BaselineIntegrityException(snapshotPath, BaselineIntegrityProblem.Foreign,
                $"it is not the snapshot the anchor {anchor.FilePath} remembers for generation {entry.Generation}: it was replaced");
        }
    }

    /// <summary>
    /// Journals a batch of updates with one write and one fsync, then applies them to <see cref="Records"/>.
    /// The batch is atomic: after a crash it is either entirely in the baseline or not at all.
    /// Needs a saved baseline (<see cref="IsEmpty"/> false).
    /// </summary>
    /// <exception cref="BaselineWriteException">Writing failed; neither disk nor <see cref="Records"/> changed.</exception>
    public void Append(IReadOnlyList<BaselineUpdate> updates) => Append(updates, []);

    /// <summary>
    /// <see cref="Append(IReadOnlyList{BaselineUpdate})"/> with the events that report these updates: they join the
    /// outbox in the same journal batch (one write, one fsync), so after a crash both are there or neither is.
    /// </summary>
    /// <returns>The events as queued, with their sequences.</returns>
    public IReadOnlyList<OutboxEvent> Append(IReadOnlyList<BaselineUpdate> updates, IReadOnlyList<OutboxMessage> events)
    {
        ArgumentNullException.ThrowIfNull(updates);
        ArgumentNullException.ThrowIfNull(events);
        lock (_gate)
        {
            ThrowIfUnusable();
            if (_snapshotMac is null)
            {
                throw new InvalidOperationException("There is no baseline yet: Save one before appending updates.");
            }
            if (updates.Count == 0 && events.Count == 0)
            {
                return [];
            }
            var queued = _outbox.Assign(events);
            _headMac = _journal is null ? StartJournal(updates, queued, []) : AppendToJournal(updates, queued, []);
            JournalEntryCount += updates.Count + queued.Count;
            Records.ApplyCommitted(updates);
            foreach (var e in queued)
            {
                _outbox.Add(e);
            }
            return queued;
        }
    }

    /// <summary>
    /// Removes delivered events from the outbox, journaling the acknowledgement first (one fsync). Sequences not in
    /// the outbox are ignored. Until this returns, the events count as undelivered and are kept across crashes.
    /// </summary>
    /// <exception cref="BaselineWriteException">Writing failed; the events stay in the outbox.</exception>
    public void Acknowledge(IReadOnlyCollection<ulong> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        lock (_gate)
        {
            ThrowIfUnusable();
            List<ulong> acks = [.. sequences.Distinct().Where(s => _outbox.Contains(s))];
            if (acks.Count == 0)
            {
                return;
            }
            _headMac = _journal is null ? StartJournal([], [], acks) : AppendToJournal([], [], acks);
            JournalEntryCount++;
            foreach (var seq in acks)
            {
                _outbox.Remove(seq);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _journal?.Dispose();
            _lock.Dispose();
        }
    }

    private static BaselineStore Load(string directory, BaselineKey key, FileStream lockFile)
    {
        var snapshotPath = Path.Combine(directory, SnapshotFileName);
        var journalPath = Path.Combine(directory, JournalFileName);
        if (!File.Exists(snapshotPath))
        {
            if (File.Exists(journalPath))
            {
                throw new BaselineIntegrityException(snapshotPath, BaselineIntegrityProblem.MissingSnapshot,
                    $"it is missing while the journal {journalPath} that extends it exists: the snapshot was removed");
            }
            return new BaselineStore(directory, key, lockFile, new BaselineRecords(), new PendingEvents());
        }

        var outbox = new PendingEvents();
        var info = SnapshotFile.Read(snapshotPath, key, out var records, outbox);
        var store = new BaselineStore(directory, key, lockFile, records, outbox)
        {
            _snapshotMac = info.Mac,
            _headMac = info.Mac,
            Metadata = info.Metadata,
            CreatedAt = info.CreatedAt,
        };
        if (!File.Exists(journalPath))
        {
            return store;
        }
        var journal = new FileStream(journalPath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        try
        {
            var state = JournalFile.Read(journal, journalPath, key, info.Mac, records, outbox);
            if (state.Stale)
            {
                journal.Dispose();
                File.Delete(journalPath);
                store.StaleJournalDiscarded = true;
                return store;
            }
            if (state.ValidLength < journal.Length)
            {
                // Cut the torn tail now, so the next append continues the chain right after the last complete batch.
                journal.SetLength(state.ValidLength);
                journal.Flush(flushToDisk: true);
            }
            journal.Position = state.ValidLength;
            store._journal = journal;
            store._headMac = state.HeadMac;
            store.JournalEntryCount = state.Entries;
            store.TornJournalEntriesDropped = state.TornEntriesDropped;
            return store;
        }
        catch
        {
            journal.Dispose();
            throw;
        }
    }

    private byte[] StartJournal(IReadOnlyList<BaselineUpdate> updates, IReadOnlyList<OutboxEvent> events, IReadOnlyList<ulong> acks)
    {
        var journalPath = Path.Combine(StateDirectory, JournalFileName);
        var tempPath = journalPath + TempSuffix;
        var file = new FileStream(tempPath, NewFileOptions(FileMode.Create, FileAccess.ReadWrite));
        byte[] head;
        try
        {
            var w = new BufferedFileWriter(file, null, _journalBuffer);
            JournalFile.WriteHeader(w, _key, _snapshotMac!);
            head = JournalFile.WriteBatch(w, _key, _snapshotMac!, updates, events, acks);
            w.Flush();
            file.Flush(flushToDisk: true);
            // Replaces a stale journal that a failed delete may have left.
            File.Move(tempPath, journalPath, overwrite: true);
        }
        catch (Exception e)
        {
            file.Dispose();
            TryDelete(tempPath);
            if (e is IOException or UnauthorizedAccessException)
            {
                throw BaselineWriteException.From(journalPath, e, "The baseline on disk is unchanged and the updates were not applied.");
            }
            throw;
        }
        _journal = file;
        try
        {
            DirectorySync.Flush(StateDirectory);
        }
        catch (IOException e)
        {
            _unusable = $"making the new journal {journalPath} durable failed ({e.Message}); reopen the store";
            throw BaselineWriteException.From(StateDirectory, e,
                "The updates may or may not survive a crash; close and reopen the store, which loads whichever is on disk.");
        }
        return head;
    }

    private byte[] AppendToJournal(IReadOnlyList<BaselineUpdate> updates, IReadOnlyList<OutboxEvent> events, IReadOnlyList<ulong> acks)
    {
        var journal = _journal!;
        var journalPath = Path.Combine(StateDirectory, JournalFileName);
        var start = journal.Position;
        var fsyncStarted = false;
        try
        {
            var w = new BufferedFileWriter(journal, null, _journalBuffer);
            var head = JournalFile.WriteBatch(w, _key, _headMac!, updates, events, acks);
            w.Flush();
            fsyncStarted = true;
            journal.Flush(flushToDisk: true);
            return head;
        }
        catch (Exception e)
        {
            try
            {
                journal.SetLength(start);
                journal.Position = start;
                if (fsyncStarted)
                {
                    // After a failed fsync the kernel may have dropped dirty pages: what is on disk is unknown.
                    _unusable = $"fsync of the journal {journalPath} failed ({e.Message}); reopen the store";
                }
            }
            catch (IOException cleanup)
            {
                _unusable = $"could not cut the journal {journalPath} back after a failed write ({cleanup.Message}); reopen the store";
            }
            if (e is IOException or UnauthorizedAccessException)
            {
                throw BaselineWriteException.From(journalPath, e, _unusable is null
                    ? "The baseline on disk is unchanged and the updates were not applied."
                    : "The updates were not applied in memory; after a crash they would be dropped as a torn tail. Reopen the store.");
            }
            throw;
        }
    }

    private static FileStream AcquireLock(string directory)
    {
        var options = NewFileOptions(FileMode.OpenOrCreate, FileAccess.ReadWrite);
        try
        {
            // FileShare.None makes .NET take flock(LOCK_EX | LOCK_NB) on Unix, released by the kernel when the process dies.
            return new FileStream(Path.Combine(directory, LockFileName), options);
        }
        catch (IOException e) when (e.HResult == Errno.EAGAIN)
        {
            throw new BaselineLockedException(directory, e);
        }
    }

    private static FileStreamOptions NewFileOptions(FileMode mode, FileAccess access)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = FileShare.None, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }
        return options;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Leftovers are removed on the next open.
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_unusable is not null)
        {
            throw new InvalidOperationException($"The baseline store in {StateDirectory} cannot be written any more: {_unusable}.");
        }
    }
}

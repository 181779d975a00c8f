using Fim.Contracts;
using Fim.Core.Baseline;
using Fim.Core.Model;
using Fim.Core.Native;
using Fim.Core.Policy;

namespace Fim.Core.Content;

/// <summary>
/// What the engine does with file content between detection and report, per policy: content diffs for paths under
/// reportDiffs (<see cref="ContentCopies"/>) and the append-only verdict for paths checked "growing"
/// (<see cref="GrowthCheckpoint"/>). Both keep sealed files in the policy's state directory ("diffs/", "growing/"),
/// written only after the batch that reports them is committed (<see cref="RefinedChanges.Complete"/>).
/// One thread (the policy's loop) uses it.
/// </summary>
public sealed class ContentTracker
{
    public const string DiffsDirectory = "diffs";
    public const string GrowingDirectory = "growing";

    private const ChangedAttributes GrowthAttributes =
        ChangedAttributes.Size | ChangedAttributes.Mtime | ChangedAttributes.Ctime | ChangedAttributes.AnyHash | ChangedAttributes.HashStatus;

    private readonly CompiledPolicy _policy;
    private readonly ContentCopies? _copies;
    private readonly SealedBlobs? _checkpoints;

    private ContentTracker(CompiledPolicy policy, ContentCopies? copies, SealedBlobs? checkpoints)
    {
        _policy = policy;
        _copies = copies;
        _checkpoints = checkpoints;
    }

    /// <summary>The tracker of <paramref name="policy"/> over the state directory and key of <paramref name="store"/>.</summary>
    public static ContentTracker Open(CompiledPolicy policy, BaselineStore store) => Open(policy, store.StateDirectory, store.Key);

    internal static ContentTracker Open(CompiledPolicy policy, string stateDirectory, BaselineKey key)
    {
        var diffs = Path.Combine(stateDirectory, DiffsDirectory);
        var growing = Path.Combine(stateDirectory, GrowingDirectory);
        // A directory left by an earlier revision is opened too, so its files can be removed.
        var copies = policy.Rules.Any(r => r.ReportDiffs) || Directory.Exists(diffs)
            ? new ContentCopies(new SealedBlobs(diffs, key, "fim.diff-copy"), policy.Diffs)
            : null;
        var checkpoints = policy.Rules.Any(r => r.IsGrowing) || Directory.Exists(growing)
            ? new SealedBlobs(growing, key, "fim.growth-checkpoint")
            : null;
        return new ContentTracker(policy, copies, checkpoints);
    }

    /// <summary>Deletes the copies and checkpoints kept in a policy's state directory (the policy was removed).</summary>
    public static void RemoveStored(string stateDirectory)
    {
        foreach (var name in new[] { DiffsDirectory, GrowingDirectory })
        {
            var directory = Path.Combine(stateDirectory, name);
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>Whether any rule needs content work (copies, checkpoints or housekeeping of old ones).</summary>
    public bool IsActive => _copies is not null || _checkpoints is not null;

    /// <summary>Bytes read from monitored files to verify and extend growth checkpoints (for tests and metrics).</summary>
    public long GrowthBytesRead { get; private set; }

    /// <summary>Bytes of stored content copies.</summary>
    public long CopyBytes => _copies?.Blobs.TotalBytes ?? 0;

    /// <summary>Number of stored content copies.</summary>
    public int CopyCount => _copies?.Blobs.Count ?? 0;

    /// <summary>The file holding the copy of <paramref name="path"/> (whether or not it exists).</summary>
    public string? CopyFileOf(byte[] path) => _copies?.Blobs.FileOf(path);

    /// <summary>
    /// Adds diffs to changes of files under reportDiffs and judges changes of append-only files (an append is no
    /// change; truncation, rewritten bytes or replacement are append violations; rename-and-create is a rotation).
    /// Nothing is written until <see cref="RefinedChanges.Complete"/>.
    /// </summary>
    /// <param name="verifyAll">Re-verify every checkpoint chunk of grown files (a full-verify scan).</param>
    public RefinedChanges Refine(IReadOnlyList<FileChange> changes, IReadOnlyList<BaselineUpdate> updates, bool verifyAll = false)
    {
        if (!IsActive)
        {
            return new RefinedChanges(this, changes, []);
        }
        var writes = new List<(bool Copy, PendingWrite Write)>();
        var changed = new HashSet<byte[]>(PathComparer.Instance);
        var result = new List<FileChange>(changes.Count);
        var addedByInode = changes.Where(c => c.Kind == ChangeKind.Added && c.After is { Type: FileType.Regular })
            .GroupBy(c => (c.After!.Inode, c.After.Device)).ToDictionary(g => g.Key, g => g.First());
        var folded = new HashSet<byte[]>(PathComparer.Instance);
        foreach (var change in changes)
        {
            changed.Add(change.Path);
            var rule = _policy.RuleFor(change.Path);
            var refined = change;
            if (rule is { IsGrowing: true } && _checkpoints is not null)
            {
                refined = JudgeGrowth(change, verifyAll, addedByInode, folded, writes);
            }
            if (refined is not null && rule is { ReportDiffs: true } && _copies is not null)
            {
                refined = WithDiff(refined, writes);
            }
            if (refined is not null)
            {
                result.Add(refined);
            }
        }
        if (folded.Count > 0)
        {
            result.RemoveAll(c => c.Kind == ChangeKind.Added && folded.Contains(c.Path));
        }
        foreach (var update in updates)
        {
            if (changed.Contains(update.Path))
            {
                continue;
            }
            var rule = _policy.RuleFor(update.Path);
            if (update.Record is null)
            {
                RemoveAll(update.Path, writes);
                continue;
            }
            if (update.Record.Type != FileType.Regular)
            {
                continue;
            }
            // Recorded without a change (first baseline, quiet additions): the first copy and checkpoints.
            if (rule is { ReportDiffs: true } && _copies is not null && !_copies.HasCopy(update.Path) && _copies.Record(update.Path, update.Record) is { } w)
            {
                writes.Add((true, w));
            }
            if (rule is { IsGrowing: true } && _checkpoints is not null && !_checkpoints.Exists(update.Path) && BuildCheckpoint(update.Path) is { } cp)
            {
                writes.Add((false, new PendingWrite(update.Path, cp.Encode())));
            }
        }
        return new RefinedChanges(this, result, writes);
    }

    /// <summary>Removes copies and checkpoints of paths that no rule keeps them for (a policy revision dropped them).</summary>
    public int Prune()
    {
        var removed = 0;
        if (_copies is not null)
        {
            removed += Prune(_copies.Blobs, p => _policy.RuleFor(p) is { ReportDiffs: true } && !_policy.Diffs.IsNoDiff(p));
        }
        if (_checkpoints is not null)
        {
            removed += Prune(_checkpoints, p => _policy.RuleFor(p) is { IsGrowing: true });
        }
        return removed;
    }

    /// <summary>One notice when the copy quota refused copies; null otherwise.</summary>
    public string? TakeNotice() => _copies?.TakeQuotaNotice(_policy.Name);

    private static int Prune(SealedBlobs blobs, Func<byte[], bool> keep)
    {
        var removed = 0;
        foreach (var (file, path) in blobs.Entries().ToList())
        {
            if (path is null || !keep(path))
            {
                blobs.RemoveFile(file);
                removed++;
            }
        }
        return removed;
    }

    private FileChange WithDiff(FileChange change, List<(bool, PendingWrite)> writes)
    {
        switch (change.Kind)
        {
            case ChangeKind.Deleted:
                RemoveAll(change.Path, writes, checkpoints: false);
                return change;
            case ChangeKind.Added:
                if (change.After is { Type: FileType.Regular } && _copies!.Record(change.Path, change.After) is { } first)
                {
                    writes.Add((true, first));
                }
                return change;
            case ChangeKind.Modified or ChangeKind.TypeChanged or ChangeKind.AppendViolation or ChangeKind.Rotated:
                var (info, text, write) = _copies!.Diff(change.Path, change.After, change.DisplayPath);
                if (write is not null)
                {
                    writes.Add((true, write));
                }
                return change with { DiffInfo = info, DiffText = text };
            default:
                return change;
        }
    }

    private FileChange? JudgeGrowth(
        FileChange change, bool verifyAll, Dictionary<(ulong, ulong), FileChange> addedByInode, HashSet<byte[]> folded,
        List<(bool, PendingWrite)> writes)
    {
        var blobs = _checkpoints!;
        if (change.Kind == ChangeKind.Deleted)
        {
            if (change.Before is { Type: FileType.Regular } b && addedByInode.TryGetValue((b.Inode, b.Device), out var moved))
            {
                // Renamed away and not re-created yet: the rotation's first half.
                folded.Add(moved.Path);
                MoveCheckpoint(change.Path, moved.Path, writes);
                writes.Add((false, PendingWrite.Remove(change.Path)));
                return Rotated(change, moved.Path, b.Size);
            }
            writes.Add((false, PendingWrite.Remove(change.Path)));
            return change;
        }
        if (change.After is not { Type: FileType.Regular } after)
        {
            return change;
        }
        if (change.Kind == ChangeKind.Added || change.Before is not { Type: FileType.Regular } before)
        {
            if (BuildCheckpoint(change.Path) is { } fresh)
            {
                writes.Add((false, new PendingWrite(change.Path, fresh.Encode())));
            }
            return change;
        }
        var checkpoint = blobs.TryRead(change.Path, out var payload) == BlobRead.Valid ? GrowthCheckpoint.Decode(payload) : null;
        if (after.Inode != before.Inode || after.Device != before.Device || (checkpoint is not null && checkpoint.Inode != after.Inode))
        {
            var previousSize = checkpoint?.Size ?? before.Size;
            if (BuildCheckpoint(change.Path) is { } fresh)
            {
                writes.Add((false, new PendingWrite(change.Path, fresh.Encode())));
            }
            var rotatedTo = addedByInode.TryGetValue((before.Inode, before.Device), out var moved) ? moved.Path : FindSibling(change.Path, before);
            if (rotatedTo is not null)
            {
                folded.Add(rotatedTo);
                if (checkpoint is not null)
                {
                    writes.Add((false, new PendingWrite(rotatedTo, checkpoint.Encode())));
                }
                return Rotated(change, rotatedTo, previousSize);
            }
            return Violation(change, GrowthInfo.Replaced, previousSize, null);
        }
        if (checkpoint is null)
        {
            // No (valid) checkpoints: nothing proves the earlier bytes; report the change as it is and start checkpoints.
            if (BuildCheckpoint(change.Path) is { } fresh)
            {
                writes.Add((false, new PendingWrite(change.Path, fresh.Encode())));
            }
            return change;
        }
        using var file = MonitoredFile.Open(change.Path, out _);
        if (file is null)
        {
            return change;
        }
        try
        {
            if (file.Stat.Size < checkpoint.Size)
            {
                writes.Add((false, new PendingWrite(change.Path, GrowthCheckpoint.Build(file).Encode())));
                return Violation(change, GrowthInfo.Truncated, checkpoint.Size, null);
            }
            // Same size yet changed content or times: an append always grows the file, so check every chunk.
            var all = verifyAll || file.Stat.Size == checkpoint.Size;
            var extended = checkpoint.Extend(file, all, out var changedAt);
            if (extended is null)
            {
                writes.Add((false, new PendingWrite(change.Path, GrowthCheckpoint.Build(file).Encode())));
                return Violation(change, GrowthInfo.Rewritten, checkpoint.Size, changedAt);
            }
            writes.Add((false, new PendingWrite(change.Path, extended.Encode())));
            var rest = change.Changed & ~GrowthAttributes;
            if (extended.Size > checkpoint.Size || rest == ChangedAttributes.None && file.Stat.Size == checkpoint.Size)
            {
                // Grew (or only its times moved with the same bytes): what is left is whatever else changed, if anything.
                return rest == ChangedAttributes.None ? null : change with { Kind = ChangeKind.Attributes, Changed = rest };
            }
            return change;
        }
        finally
        {
            GrowthBytesRead += file.BytesRead;
        }
    }

    private GrowthCheckpoint? BuildCheckpoint(byte[] path)
    {
        using var file = MonitoredFile.Open(path, out _);
        if (file is null)
        {
            return null;
        }
        var cp = GrowthCheckpoint.Build(file);
        GrowthBytesRead += file.BytesRead;
        return cp;
    }

    private void MoveCheckpoint(byte[] from, byte[] to, List<(bool, PendingWrite)> writes)
    {
        if (_checkpoints!.TryRead(from, out var payload) == BlobRead.Valid)
        {
            writes.Add((false, new PendingWrite(to, payload)));
        }
    }

    /// <summary>The sibling that now holds the old inode (logrotate renamed the file next to itself), or null.</summary>
    private static byte[]? FindSibling(byte[] path, FileRecord before)
    {
        var parent = PathBytes.Parent(path).ToArray();
        try
        {
            foreach (var entry in Directory.EnumerateFiles(PathBytes.ToDisplay(parent)))
            {
                var candidate = PathBytes.FromString(entry);
                if (Posix.StatPath(candidate, followSymlinks: false, out var stat) == 0 && stat.Inode == before.Inode && stat.Device == before.Device &&
                    !PathComparer.Instance.Equals(candidate, path))
                {
                    return candidate;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    private static FileChange Rotated(FileChange change, byte[] to, long previousSize) => change with
    {
        Kind = ChangeKind.Rotated,
        Growth = new GrowthInfo { Verdict = GrowthInfo.Rotated, PreviousSize = previousSize, RotatedTo = PathBytes.ToDisplay(to) },
    };

    private static FileChange Violation(FileChange change, string verdict, long previousSize, long? changedAt) => change with
    {
        Kind = ChangeKind.AppendViolation,
        Growth = new GrowthInfo { Verdict = verdict, PreviousSize = previousSize, ChangedAt = changedAt },
    };

    private void RemoveAll(byte[] path, List<(bool Copy, PendingWrite Write)> writes, bool checkpoints = true)
    {
        if (_copies is not null && _copies.HasCopy(path))
        {
            writes.Add((true, PendingWrite.Remove(path)));
        }
        if (checkpoints && _checkpoints is not null && _checkpoints.Exists(path))
        {
            writes.Add((false, PendingWrite.Remove(path)));
        }
    }

    internal void Apply(IReadOnlyList<(bool Copy, PendingWrite Write)> writes)
    {
        foreach (var (copy, write) in writes)
        {
            if (copy)
            {
                _copies!.Apply(write);
            }
            else if (write.Payload is null)
            {
                _checkpoints!.Remove(write.Path);
            }
            else
            {
                _checkpoints!.Write(write.Path, write.Payload);
            }
        }
        _copies?.ResetProjection();
    }

    internal void Discard() => _copies?.ResetProjection();
}

/// <summary>The changes to report, and the copies and checkpoints to write once they are committed.</summary>
public sealed class RefinedChanges
{
    private readonly ContentTracker _tracker;
    private readonly IReadOnlyList<(bool Copy, PendingWrite Write)> _writes;

    internal RefinedChanges(ContentTracker tracker, IReadOnlyList<FileChange> changes, IReadOnlyList<(bool, PendingWrite)> writes)
    {
        _tracker = tracker;
        Changes = changes;
        _writes = writes;
    }

    public IReadOnlyList<FileChange> Changes { get; }

    /// <summary>Writes the copies and checkpoints; call after the batch was committed to the baseline.</summary>
    public void Complete() => _tracker.Apply(_writes);

    /// <summary>The batch was not committed: nothing is written.</summary>
    public void Discard() => _tracker.Discard();
}

using System.Collections.Concurrent;
using Fim.Core.Baseline;
using Fim.Core.Model;
using Fim.Core.Native;
using Fim.Core.Policy;

namespace Fim.Core.Scanning;

/// <summary>
/// The tree-walk stage of one scan: lists directories with getdents64 on parallel workers fed by a <see cref="WorkQueue{T}"/>,
/// skips what the scope leaves out, hands each entry to the record builder, and notes what could not be verified.
/// </summary>
internal sealed class TreeWalk(
    ScanScope scope, RecordBuilder builder, RecordComparison compare, string policyName,
    IBaselineView baseline, int generation, ScanStats stats, CancellationToken ct)
{
    private readonly ConcurrentBag<WorkerOutput> _outputs = [];
    private readonly ConcurrentBag<byte[]> _unverifiedDirs = [];
    private readonly ConcurrentBag<byte[]> _vanishedDirs = [];
    private readonly ConcurrentDictionary<(ulong, ulong), byte> _visitedViaSymlink = new();
    private readonly WorkerOutput _startOutput = new();
    private readonly PseudoFileSystemCache _pseudo = new();
    private WorkQueue<WorkItem> _queue = null!;
    private readonly List<WorkItem> _initial = [];
    // A first baseline (nothing to compare with, nothing to report): each record goes into its compact form as it is
    // found instead of being held as objects until the commit: half the peak for a million files.
    private readonly FrozenRecords.Builder? _firstBaseline = compare.Options.RecordOnly && baseline.Count == 0 ? new(0) : null;
    private readonly Lock _firstBaselineLock = new();

    public ScanStats Stats => stats;

    /// <summary>Every worker's output, then the one that holds the starts' records; the deletion pass adds to that last one.</summary>
    public IEnumerable<WorkerOutput> Outputs => _outputs.Append(_startOutput);

    public WorkerOutput StartOutput => _startOutput;

    /// <summary>Directories listed by their parent but gone when opened: their records are not news, their entries are unseen.</summary>
    public IEnumerable<byte[]> VanishedDirectories => _vanishedDirs;

    /// <summary>Directories that could not be listed: nothing below them can be judged deleted.</summary>
    public byte[][] UnverifiedDirectories() => _unverifiedDirs.ToArray();

    private ScanOptions Options => compare.Options;

    /// <summary>What the walk and the deletion pass found to write to the baseline; call once, after both.</summary>
    public IReadOnlyList<BaselineUpdate> Updates()
    {
        var lists = new ConcatenatedList<BaselineUpdate>(Outputs.Select(o => o.Updates));
        if (_firstBaseline is null)
        {
            return lists;
        }
        _firstBaseline.SortByPath(new HashSet<byte[]>(_vanishedDirs, PathComparer.Instance));
        var frozen = new FrozenUpdates(_firstBaseline.Build());
        // The baseline was empty when the walk began, so the deletion pass normally has nothing to add.
        return lists.Count == 0 ? frozen : new ConcatenatedList<BaselineUpdate>([[.. frozen], [.. lists]]);
    }

    public void Start(byte[] start)
    {
        var rule = scope.RuleInScope(start);
        if (rule is null)
        {
            return;
        }
        var display = PathBytes.ToDisplay(start);
        var err = Posix.StatPath(start, rule.FollowSymlinks, out var stat);
        if (err is Libc.ENOENT or Libc.ENOTDIR)
        {
            if (start.Length == rule.Root.Length)
            {
                _startOutput.Issues.Add(new ScanIssue(ScanIssueKind.MissingRoot, display, "no such file or directory"));
            }
            return;
        }
        if (err != 0)
        {
            _startOutput.Issues.Add(new ScanIssue(err == Libc.EACCES ? ScanIssueKind.PermissionDenied : ScanIssueKind.IoError, display, Libc.Describe(err)));
            _unverifiedDirs.Add(start);
            return;
        }
        if (_pseudo.Lookup(stat.Device, start, out _) is { } pseudo)
        {
            _startOutput.Issues.Add(new ScanIssue(ScanIssueKind.PseudoFileSystem, display,
                $"on a {pseudo} pseudo file system (kernel state, not files): not scanned"));
            return;
        }
        using var hasher = builder.CreateHasher(ct);
        var depth = ScanScope.Depth(rule, start);
        Record(_startOutput, hasher, Libc.AT_FDCWD, Posix.Z(start), start, stat, rule);
        if (stat.Type == FileType.Directory && depth < rule.MaxDepth)
        {
            _initial.Add(WorkItem.Directory(start, depth, rule, stat.Device));
        }
    }

    public void RunWorkers(int parallelism)
    {
        _queue = new WorkQueue<WorkItem>(parallelism);
        foreach (var item in _initial)
        {
            _queue.Add(item);
        }
        if (_initial.Count == 0)
        {
            _queue.Stop();
        }
        var threads = new Thread[parallelism];
        Exception? failure = null;
        for (var i = 0; i < parallelism; i++)
        {
            threads[i] = new Thread(() =>
            {
                try
                {
                    Work();
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                    _queue.Stop();
                }
            })
            { Name = $"fim-scan-{i}", IsBackground = true };
            threads[i].Start();
        }
        foreach (var t in threads)
        {
            t.Join();
        }
        PublishCounts(_startOutput);
        ct.ThrowIfCancellationRequested();
        if (failure is not null)
        {
            throw new InvalidOperationException($"scan failed: {failure.Message}", failure);
        }
    }

    private void Work()
    {
        var output = new WorkerOutput();
        _outputs.Add(output);
        using var hasher = builder.CreateHasher(ct);
        var dirents = GC.AllocateUninitializedArray<byte>(64 * 1024, pinned: true);
        while (_queue.TryTake(out var item, ct))
        {
            try
            {
                if (item.IsDirectory)
                {
                    ListDirectory(output, hasher, dirents, item);
                }
                else
                {
                    HashLarge(output, hasher, item);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                output.Issues.Add(new ScanIssue(ScanIssueKind.IoError, PathBytes.ToDisplay(item.Path), e.Message));
            }
            finally
            {
                _queue.Complete();
            }
        }
        PublishCounts(output);
    }

    private void ListDirectory(WorkerOutput output, ContentHasher hasher, byte[] dirents, WorkItem item)
    {
        var err = Posix.OpenPath(item.Path, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NONBLOCK, out var fd);
        if (err != 0)
        {
            if (err is Libc.ENOENT or Libc.ENOTDIR or Libc.ELOOP)
            {
                _vanishedDirs.Add(item.Path);
            }
            else
            {
                output.Issues.Add(new ScanIssue(
                    err == Libc.EACCES ? ScanIssueKind.PermissionDenied : ScanIssueKind.IoError,
                    PathBytes.ToDisplay(item.Path), $"cannot list directory: {Libc.Describe(err)}; entries below it were not verified"));
                _unverifiedDirs.Add(item.Path);
            }
            return;
        }
        try
        {
            var rule = item.Rule!;
            var childDepth = item.Depth + 1;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var e = Posix.GetDents(fd, dirents, out var filled);
                if (e != 0)
                {
                    output.Issues.Add(new ScanIssue(ScanIssueKind.IoError, PathBytes.ToDisplay(item.Path), $"reading directory: {Libc.Describe(e)}"));
                    _unverifiedDirs.Add(item.Path);
                    return;
                }
                if (filled == 0)
                {
                    return;
                }
                foreach (var entry in new DirectoryEntries(dirents.AsSpan(0, filled)))
                {
                    if (!entry.IsDotOrDotDot)
                    {
                        VisitEntry(output, hasher, fd, item, rule, childDepth, entry.NameZ);
                    }
                }
            }
        }
        finally
        {
            Libc.close(fd);
        }
    }

    private void VisitEntry(
        WorkerOutput output, ContentHasher hasher, int dirFd, WorkItem parent, CompiledPathRule rule, int depth,
        ReadOnlySpan<byte> nameZ)
    {
        // The child path is built in a per-thread buffer: an unchanged entry costs one statx and one lookup, no allocation.
        var name = nameZ[..^1];
        var pathSpan = output.ComposePath(parent.Path, name);
        if (scope.IsNestedRoot(pathSpan) || rule.IsExcluded(pathSpan))
        {
            return; // a nested root is scanned under its own rule; an excluded entry is neither recorded nor descended
        }
        Options.Throttle?.AcquireFile();
        var err = Posix.Statx(dirFd, nameZ, false, out var stat);
        if (err == 0 && stat.Type == FileType.Symlink && rule.FollowSymlinks &&
            Posix.Statx(dirFd, nameZ, true, out var target) == 0)
        {
            if (target.Type == FileType.Directory && !_visitedViaSymlink.TryAdd((target.Device, target.Inode), 0))
            {
                return; // a symlink loop, or a directory already walked through another link
            }
            stat = target;
        }
        if (err != 0)
        {
            if (err is not (Libc.ENOENT or Libc.ENOTDIR))
            {
                output.Issues.Add(new ScanIssue(ScanIssueKind.IoError, PathBytes.ToDisplay(pathSpan), Libc.Describe(err)));
                _unverifiedDirs.Add(pathSpan.ToArray());
            }
            return;
        }
        if (!rule.IsIncluded(pathSpan, stat.Type))
        {
            return;
        }
        byte[] path;
        if (baseline.TryGet(pathSpan, out var old) && compare.StillValid(old, stat, rule))
        {
            MarkSeen(output, old);
            path = old.Path;
        }
        else
        {
            path = pathSpan.ToArray();
            if (stat.Type == FileType.Regular && rule.WantsHash && stat.Size >= Options.SeparateHashThreshold &&
                stat.Size <= rule.MaxFileSize)
            {
                _queue.Add(WorkItem.LargeFile(path, rule, stat));
                return;
            }
            Record(output, hasher, dirFd, nameZ.ToArray(), path, stat, rule);
        }
        if (stat.Type == FileType.Directory && depth < rule.MaxDepth &&
            (!rule.OneFilesystem || stat.Device == parent.RootDevice))
        {
            if (_pseudo.Lookup(stat.Device, path, out var first) is { } pseudo)
            {
                if (first)
                {
                    output.Issues.Add(new ScanIssue(ScanIssueKind.PseudoFileSystem, PathBytes.ToDisplay(path),
                        $"{pseudo} is a pseudo file system (kernel state, not files): skipped below this mount point"));
                }
                return;
            }
            _queue.Add(WorkItem.Directory(path, depth, rule, parent.RootDevice));
        }
    }

    private void MarkSeen(WorkerOutput output, FileRecord old)
    {
        baseline.MarkSeen(old, generation);
        output.SeenInBaseline++;
        // Counted per thread and published in batches: shared counters bounce a cache line between cores.
        if (old.Type == FileType.Directory)
        {
            output.UnchangedDirectories++;
        }
        else
        {
            output.UnchangedFiles++;
        }
        if (old.HashStatus == HashStatus.Hashed)
        {
            output.UnchangedHashed++;
        }
        if ((output.UnchangedFiles + output.UnchangedDirectories & 1023) == 0)
        {
            PublishCounts(output);
        }
    }

    private void PublishCounts(WorkerOutput output)
    {
        Interlocked.Add(ref Stats._files, output.UnchangedFiles);
        Interlocked.Add(ref Stats._directories, output.UnchangedDirectories);
        Interlocked.Add(ref Stats._hashesReused, output.UnchangedHashed);
        output.UnchangedFiles = output.UnchangedDirectories = output.UnchangedHashed = 0;
    }

    private void HashLarge(WorkerOutput output, ContentHasher hasher, WorkItem item)
    {
        var parent = PathBytes.Parent(item.Path);
        var err = Posix.OpenPath(parent, Libc.O_RDONLY | Libc.O_DIRECTORY, out var dirFd);
        if (err != 0)
        {
            return; // the directory went away: its entries count as unseen, so they are judged by the deletion pass
        }
        try
        {
            Record(output, hasher, dirFd, Posix.Z(PathBytes.FileName(item.Path)), item.Path, item.Stat, item.Rule!);
        }
        finally
        {
            Libc.close(dirFd);
        }
    }

    private FileRecord? Old(ReadOnlySpan<byte> path) => baseline.TryGet(path, out var old) ? old : null;

    private void Record(WorkerOutput output, ContentHasher hasher, int dirFd, byte[] nameZ, byte[] path, FileStat stat, CompiledPathRule rule)
    {
        var old = Old(path);
        if (old is not null && compare.StillValid(old, stat, rule))
        {
            MarkSeen(output, old);
            return;
        }
        var record = builder.Build(hasher, Stats, dirFd, nameZ, path, stat, rule, old, out var issue);
        if (issue is not null)
        {
            output.Issues.Add(issue);
        }
        Interlocked.Increment(ref record.Type == FileType.Directory ? ref Stats._directories : ref Stats._files);
        record.SeenGeneration = generation;
        if (old is not null)
        {
            baseline.MarkSeen(old, generation);
            output.SeenInBaseline++;
            if (RecordComparison.Identical(old, record))
            {
                return;
            }
        }
        if (_firstBaseline is not null)
        {
            lock (_firstBaselineLock)
            {
                _firstBaseline.Add(record);
            }
            return;
        }
        output.Updates.Add(new BaselineUpdate(path, record));
        if (!Options.RecordOnly &&
            ChangeDetector.Compare(path, old, record, rule.Checks, Options.Source, Options.Time.GetUtcNow(), policyName) is { } change)
        {
            output.Changes.Add(change);
        }
    }
}

using Fim.Core.Model;
using Fim.Core.Native;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Realtime;

/// <summary>
/// The directories holding an inotify watch: adds them tree by tree, forgets trees that moved or vanished, and keeps
/// the directories it could not watch (limit reached, root missing) to retry later. Not thread-safe; the watcher
/// serialises access.
/// </summary>
internal sealed unsafe class WatchSet(int fd, InotifyWatcherOptions options, WatcherCounters counters, ILogger logger)
{
    private readonly WatchTable _table = new();
    private readonly List<RootState> _roots = [];
    private readonly Dictionary<byte[], Unwatched> _unwatched = new(PathComparer.Instance);

    public int Count => _table.Count;

    public int RootCount => _roots.Count;

    public bool HasUnwatched => _unwatched.Count > 0;

    public bool TryGet(int wd, out WatchedDirectory directory) => _table.TryGet(wd, out directory);

    public static bool IsRoot(WatchedDirectory d) => d.Depth == 0 && PathComparer.Instance.Equals(d.Path, d.Root.Path);

    public int AddRoot(WatchRoot root, NotificationBatch batch)
    {
        var state = new RootState(root, options.ShouldWatch);
        _roots.Add(state);
        EnsureDevice(state);
        var outcome = WatchTree(state.Path, 0, state);
        if (outcome.Top is AddResult.Gone or AddResult.Failed)
        {
            _unwatched[state.Path] = new Unwatched(state.Path, 0, state, RescanReason.NewDirectory);
            logger.RootUnavailable(PathBytes.ToDisplay(state.Path), Libc.Describe(outcome.TopErrno));
            return 0;
        }
        ReportLimit(outcome, state.Path, batch);
        logger.RootWatched(PathBytes.ToDisplay(state.Path), outcome.Watched, _table.Count);
        return outcome.Watched;
    }

    /// <summary>
    /// Watches a directory that appeared under a watched one, with everything below it, and asks for a rescan of it
    /// because entries made before the watch existed produced no events.
    /// </summary>
    public void WatchNew(byte[] path, int depth, RootState root, RescanReason reason, NotificationBatch batch)
    {
        if (!root.Allows(path, depth) || !OnRootFilesystem(path, root))
        {
            return;
        }
        var outcome = WatchTree(path, depth, root);
        if (outcome.Top == AddResult.Failed)
        {
            batch.Rescan(path, RescanReason.WatchError);
        }
        else if (outcome.Top == AddResult.Watched && outcome.TopIsNew)
        {
            // A directory already watched under this path was found by its parent's walk, after its watch existed.
            batch.Rescan(path, reason);
        }
        ReportLimit(outcome, path, batch);
    }

    /// <summary>Drops the watches at and below <paramref name="path"/>, which no longer describes where they are.</summary>
    public void ForgetTree(byte[] path)
    {
        foreach (var d in _table.Under(path))
        {
            InotifyNative.InotifyRmWatch(fd, d.Wd);
            _table.Remove(d.Wd);
        }
        foreach (var stale in _unwatched.Keys.Where(k => PathBytes.IsUnder(k, path)).ToList())
        {
            _unwatched.Remove(stale);
        }
        foreach (var root in _roots)
        {
            if (PathBytes.IsUnder(root.Path, path))
            {
                _unwatched[root.Path] = new Unwatched(root.Path, 0, root, RescanReason.NewDirectory);
            }
        }
    }

    /// <summary>The kernel removed this watch (IN_DELETE_SELF / IN_IGNORED); only the mapping is left to drop.</summary>
    public void Dropped(WatchedDirectory directory)
    {
        _table.Remove(directory.Wd);
        if (IsRoot(directory))
        {
            _unwatched[directory.Path] = new Unwatched(directory.Path, 0, directory.Root, RescanReason.NewDirectory);
        }
    }

    /// <summary>
    /// After lost events: directories created meanwhile have no watch and watches of vanished ones may never have
    /// reported IN_IGNORED, so every root is walked again, unreached watches are dropped and every root rescanned.
    /// </summary>
    public void Resynchronise(NotificationBatch batch)
    {
        var reached = new HashSet<int>();
        foreach (var root in _roots)
        {
            var outcome = WatchTree(root.Path, 0, root, reached);
            ReportLimit(outcome, root.Path, batch);
            batch.Rescan(root.Path, RescanReason.QueueOverflow);
        }
        var stale = _table.All.Where(d => !reached.Contains(d.Wd)).ToList();
        foreach (var d in stale)
        {
            InotifyNative.InotifyRmWatch(fd, d.Wd);
            _table.Remove(d.Wd);
        }
        if (stale.Count > 0)
        {
            logger.StaleWatchesDropped(stale.Count);
        }
    }

    public void RetryUnwatched(NotificationBatch batch)
    {
        var entries = _unwatched.Values.ToList();
        _unwatched.Clear();
        foreach (var entry in entries)
        {
            EnsureDevice(entry.Root);
            var outcome = WatchTree(entry.Path, entry.Depth, entry.Root);
            switch (outcome.Top)
            {
                case AddResult.Watched:
                    logger.Rewatched(PathBytes.ToDisplay(entry.Path), entry.Reason);
                    batch.Rescan(entry.Path, entry.Reason);
                    break;
                case AddResult.Gone or AddResult.Failed when entry.Depth == 0:
                    _unwatched[entry.Path] = entry;
                    break;
            }
            // Still limited: WatchTree re-queued what it could not watch; the rescan was already asked for.
        }
    }

    /// <summary>Reads the root's device once it exists (a root may be added before it is created).</summary>
    private static void EnsureDevice(RootState root)
    {
        if (root.OneFilesystem && root.Device is null && DirectoryReader.TryGetDevice(root.Path, out var device))
        {
            root.Device = device;
        }
    }

    private static bool OnRootFilesystem(byte[] path, RootState root) =>
        !root.OneFilesystem || root.Device is not { } device
        || (DirectoryReader.TryGetDevice(path, out var d) && d == device);

    private void ReportLimit(WalkOutcome outcome, byte[] subtree, NotificationBatch batch)
    {
        if (outcome.LimitAt is { } at)
        {
            counters.WatchLimitHit();
            logger.WatchLimitReached(PathBytes.ToDisplay(at), _table.Count, PathBytes.ToDisplay(subtree), options.WatchRetryInterval);
            batch.Rescan(subtree, RescanReason.WatchLimit);
        }
    }

    /// <summary>Adds watches depth-first from <paramref name="start"/>; stops at the watch limit and queues the rest for retry.</summary>
    private WalkOutcome WatchTree(byte[] start, int depth, RootState root, HashSet<int>? reached = null)
    {
        var outcome = new WalkOutcome();
        var stack = new Stack<(byte[] Path, int Depth)>();
        stack.Push((start, depth));
        var subdirectories = new List<Subdirectory>();
        var first = true;
        while (stack.TryPop(out var item))
        {
            var result = AddWatch(item.Path, item.Depth, root, out var wd, out var isNew, out var errno);
            if (first)
            {
                outcome.Top = result;
                outcome.TopIsNew = isNew;
                outcome.TopErrno = errno;
                first = false;
            }
            if (result == AddResult.Limit)
            {
                outcome.LimitAt = item.Path;
                _unwatched[item.Path] = new Unwatched(item.Path, item.Depth, root, RescanReason.WatchLimit);
                while (stack.TryPop(out var rest))
                {
                    _unwatched[rest.Path] = new Unwatched(rest.Path, rest.Depth, root, RescanReason.WatchLimit);
                }
                return outcome;
            }
            if (result != AddResult.Watched)
            {
                continue;
            }
            outcome.Watched++;
            reached?.Add(wd);
            _unwatched.Remove(item.Path);
            subdirectories.Clear();
            var listErrno = DirectoryReader.ListSubdirectories(item.Path, subdirectories, root.OneFilesystem);
            if (listErrno != 0 && !IsGone(listErrno))
            {
                counters.WatchError();
                logger.ListFailed(PathBytes.ToDisplay(item.Path), Libc.Describe(listErrno));
            }
            foreach (var sub in subdirectories)
            {
                var child = PathBytes.Join(item.Path, sub.Name);
                if (root.OneFilesystem && root.Device is { } device && sub.Device != device)
                {
                    continue;
                }
                if (root.Allows(child, item.Depth + 1))
                {
                    stack.Push((child, item.Depth + 1));
                }
            }
        }
        return outcome;
    }

    private AddResult AddWatch(byte[] path, int depth, RootState root, out int wd, out bool isNew, out int errno)
    {
        isNew = false;
        errno = 0;
        var cPath = Posix.Z(path);
        fixed (byte* p = cPath)
        {
            wd = InotifyNative.InotifyAddWatch(fd, p, InotifyNative.DirectoryMask);
        }
        if (wd < 0)
        {
            errno = Libc.LastError;
            if (IsGone(errno))
            {
                return AddResult.Gone;
            }
            if (errno == Libc.ENOSPC)
            {
                return AddResult.Limit;
            }
            counters.WatchError();
            logger.WatchFailed(PathBytes.ToDisplay(path), Libc.Describe(errno));
            return AddResult.Failed;
        }
        if (options.MaxWatches is { } max && !_table.TryGet(wd, out _) && _table.Count >= max)
        {
            // Only a wd the table does not know is a new watch; undo it so the cap holds exactly.
            InotifyNative.InotifyRmWatch(fd, wd);
            return AddResult.Limit;
        }
        isNew = _table.Set(new WatchedDirectory(wd, path, depth, root));
        return AddResult.Watched;
    }

    private static bool IsGone(int errno) =>
        errno is Libc.ENOENT or Libc.ENOTDIR or Libc.ELOOP;

    private enum AddResult
    {
        Watched,
        Gone,
        Limit,
        Failed,
    }

    private sealed class WalkOutcome
    {
        public AddResult Top { get; set; }
        public bool TopIsNew { get; set; }
        public int TopErrno { get; set; }
        public int Watched { get; set; }
        public byte[]? LimitAt { get; set; }
    }

    private sealed record Unwatched(byte[] Path, int Depth, RootState Root, RescanReason Reason);
}

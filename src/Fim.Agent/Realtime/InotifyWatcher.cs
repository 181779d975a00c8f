using System.Diagnostics;
using System.Threading.Channels;
using Fim.Core.Model;
using Fim.Core.Native;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Realtime;

/// <summary>
/// Watches directory trees with inotify and reports changed paths. Directories, not files, are watched, so a file
/// replaced by rename is seen as IN_MOVED_TO and stays covered. Whatever cannot be reported exactly (queue overflow,
/// watch limit, directories appearing) becomes a <see cref="SubtreeRescan"/>, never silence.
/// </summary>
/// <remarks>
/// <see cref="RunAsync"/> runs the read loop on a thread of its own. <see cref="AddRoot(WatchRoot)"/> may be called
/// before or while it runs.
/// </remarks>
public sealed class InotifyWatcher : IFileWatcher
{
    private readonly InotifyWatcherOptions _options;
    private readonly ILogger<InotifyWatcher> _logger;
    private readonly Channel<WatchNotification> _channel;
    private readonly Lock _gate = new();
    private readonly WatchSet _watches;
    private readonly PendingWrites _pendingWrites;
    private readonly NotificationBatch _batch = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _loopDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _retryTicks;
    private readonly int _fd;
    private long _nextRetry;
    private bool _running;
    private bool _disposed;

    public InotifyWatcher(InotifyWatcherOptions options, ILogger<InotifyWatcher> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The inotify watcher runs on Linux only.");
        }
        options.Validate();
        _options = options;
        _logger = logger;
        _fd = InotifyNative.InotifyInit1(InotifyNative.InNonBlock | InotifyNative.InCloExec);
        if (_fd < 0)
        {
            var errno = Libc.LastError;
            throw new IOException($"inotify_init1 failed: {Libc.Describe(errno)} (errno {errno}); check fs.inotify.max_user_instances.");
        }
        _watches = new WatchSet(_fd, options, Counters, logger);
        _pendingWrites = new PendingWrites(options.QuietPeriod, options.MaxDelay, Stopwatch.Frequency);
        _retryTicks = (long)(options.WatchRetryInterval.TotalSeconds * Stopwatch.Frequency);
        _channel = Channel.CreateBounded<WatchNotification>(new BoundedChannelOptions(options.ChannelCapacity)
        {
            SingleReader = false,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public ChannelReader<WatchNotification> Notifications => _channel.Reader;

    public int WatchCount => _watches.Count;

    public WatcherCounters Counters { get; } = new();

    /// <summary>Watches <paramref name="root"/> and the directories below it that <paramref name="shouldWatchDirectory"/> accepts.</summary>
    /// <returns>The number of directories watched under this root.</returns>
    public int AddRoot(byte[] root, Func<byte[], bool> shouldWatchDirectory)
    {
        ArgumentNullException.ThrowIfNull(shouldWatchDirectory);
        return AddRoot(new WatchRoot(root) { ShouldWatch = (path, _) => shouldWatchDirectory(path) });
    }

    /// <summary>
    /// Walks the existing directories under the root (without following symlinks) and watches them. A root that does
    /// not exist yet is retried every <see cref="InotifyWatcherOptions.WatchRetryInterval"/>.
    /// </summary>
    /// <returns>The number of directories watched under this root.</returns>
    public int AddRoot(WatchRoot root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var normalized = root with { Path = NormalizeRoot(root.Path) };
        List<WatchNotification> outgoing;
        int watched;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            watched = _watches.AddRoot(normalized, _batch);
            outgoing = _batch.Drain();
        }
        Emit(outgoing, _stop.Token);
        return watched;
    }

    /// <summary>
    /// Starts the read loop. The task completes (not faults) when cancelled or disposed, faults when the loop fails,
    /// and either way completes <see cref="Notifications"/>.
    /// </summary>
    /// <remarks>
    /// The loop gets one dedicated thread, not a pool thread and not async I/O: it waits in poll(2) on the inotify
    /// fd, which .NET's async I/O cannot wait on (it knows sockets and files, not an inotify descriptor), and it
    /// blocks on purpose while the notification channel is full so that the kernel queue takes the backlog (see
    /// <see cref="Emit"/>). Either wait on a pool thread would take it from the agent's async work for as long as
    /// the watcher runs.
    /// </remarks>
    public Task RunAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_running)
            {
                return Task.FromException(new InvalidOperationException("The watcher is already running."));
            }
            _running = true;
        }
        var thread = new Thread(() => Run(ct)) { Name = "fim-inotify", IsBackground = true };
        thread.Start();
        return _loopDone.Task;
    }

    private void Run(CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token);
        var token = linked.Token;
        var buffer = GC.AllocateUninitializedArray<byte>(_options.ReadBufferSize, pinned: true);
        Exception? failure = null;
        try
        {
            while (!token.IsCancellationRequested)
            {
                if (WaitReadable(NextTimeoutMs()) && !token.IsCancellationRequested)
                {
                    ReadOnce(buffer, token);
                }
                FlushDueWrites(token);
                RetryUnwatched(token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            failure = ex;
            _logger.LoopFailed(ex);
        }
        finally
        {
            _channel.Writer.TryComplete(failure);
            if (failure is null)
            {
                _loopDone.TrySetResult();
            }
            else
            {
                _loopDone.TrySetException(failure);
            }
        }
    }

    private unsafe bool WaitReadable(int timeoutMs)
    {
        var pollFd = new InotifyNative.PollFd { Fd = _fd, Events = InotifyNative.PollIn };
        var rc = InotifyNative.Poll(&pollFd, 1, timeoutMs);
        if (rc < 0)
        {
            var errno = Libc.LastError;
            return errno == Libc.EINTR ? false : throw new IOException($"poll on the inotify fd failed: {Libc.Describe(errno)}");
        }
        return rc > 0;
    }

    private unsafe void ReadOnce(byte[] buffer, CancellationToken token)
    {
        nint n;
        fixed (byte* p = buffer)
        {
            n = Libc.read(_fd, p, buffer.Length);
        }
        if (n < 0)
        {
            var errno = Libc.LastError;
            if (errno is Libc.EAGAIN or Libc.EINTR)
            {
                return;
            }
            throw new IOException($"read on the inotify fd failed: {Libc.Describe(errno)}");
        }
        List<WatchNotification> outgoing;
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            var count = 0;
            foreach (var ev in new InotifyEventEnumerator(buffer.AsSpan(0, (int)n)))
            {
                count++;
                Handle(ev, now);
            }
            Counters.EventsParsed(count);
            outgoing = _batch.Drain();
        }
        Emit(outgoing, token);
    }

    private void Handle(in InotifyEvent ev, long now)
    {
        if (ev.Has(InotifyNative.InQOverflow))
        {
            Counters.Overflow();
            _logger.QueueOverflowed(_watches.RootCount);
            _watches.Resynchronise(_batch);
            return;
        }
        if (!_watches.TryGet(ev.Wd, out var dir))
        {
            // A watch already forgotten (moved or deleted tree) may still have events queued.
            return;
        }
        if (ev.Name.IsEmpty)
        {
            HandleSelf(ev, dir);
            return;
        }
        var path = PathBytes.Join(dir.Path, ev.Name);
        var isDir = ev.Has(InotifyNative.InIsDir);
        if (ev.Has(InotifyNative.InModify))
        {
            _pendingWrites.Modified(path, now);
        }
        if (ev.Has(InotifyNative.InCloseWrite))
        {
            _pendingWrites.Remove(path);
            _batch.Change(path, ChangeHint.Written, false);
        }
        if (ev.Has(InotifyNative.InAttrib))
        {
            _batch.Change(path, ChangeHint.Attributes, isDir);
        }
        if (ev.Has(InotifyNative.InCreate))
        {
            _batch.Change(path, ChangeHint.Created, isDir);
            if (isDir)
            {
                _watches.WatchNew(path, dir.Depth + 1, dir.Root, RescanReason.NewDirectory, _batch);
            }
        }
        if (ev.Has(InotifyNative.InDelete))
        {
            Gone(path, isDir);
            _batch.Change(path, ChangeHint.Deleted, isDir);
        }
        if (ev.Has(InotifyNative.InMovedFrom))
        {
            Gone(path, isDir);
            _batch.Change(path, ChangeHint.MovedOut, isDir);
        }
        if (ev.Has(InotifyNative.InMovedTo))
        {
            _pendingWrites.Remove(path);
            _batch.Change(path, ChangeHint.MovedIn, isDir);
            if (isDir)
            {
                // Its watches (if it came from a watched place) were dropped at IN_MOVED_FROM; watching afresh
                // re-applies this root's rules at the new depth and cannot leave a watch reporting the old path.
                _watches.WatchNew(path, dir.Depth + 1, dir.Root, RescanReason.DirectoryMoved, _batch);
            }
        }
    }

    private void Gone(byte[] path, bool isDir)
    {
        _pendingWrites.Remove(path);
        if (isDir)
        {
            _pendingWrites.RemoveUnder(path);
            _watches.ForgetTree(path);
        }
    }

    /// <summary>Events on a watched directory itself (no name).</summary>
    private void HandleSelf(in InotifyEvent ev, WatchedDirectory dir)
    {
        if (ev.Has(InotifyNative.InAttrib))
        {
            _batch.Change(dir.Path, ChangeHint.Attributes, true);
        }
        if (ev.Has(InotifyNative.InDeleteSelf))
        {
            _watches.Dropped(dir);
            if (WatchSet.IsRoot(dir))
            {
                _logger.RootGone(PathBytes.ToDisplay(dir.Path), "deleted");
                _batch.Change(dir.Path, ChangeHint.Deleted, true);
            }
        }
        else if (ev.Has(InotifyNative.InMoveSelf))
        {
            // The parent's IN_MOVED_FROM, queued first, forgets subdirectories; a mapping still here means a root
            // (or a directory whose parent is not watched) moved away: what was under its old path must be rescanned.
            _logger.RootGone(PathBytes.ToDisplay(dir.Path), "moved away");
            _pendingWrites.RemoveUnder(dir.Path);
            _watches.ForgetTree(dir.Path);
            _batch.Rescan(dir.Path, RescanReason.DirectoryMoved);
        }
        else if (ev.Has(InotifyNative.InIgnored))
        {
            // Without IN_DELETE_SELF first, the kernel dropped the watch for another reason (unmount).
            Counters.WatchError();
            _logger.WatchDropped(PathBytes.ToDisplay(dir.Path));
            _watches.Dropped(dir);
            _batch.Rescan(dir.Path, RescanReason.WatchError);
        }
    }

    private void FlushDueWrites(CancellationToken token)
    {
        List<WatchNotification> outgoing;
        lock (_gate)
        {
            if (_pendingWrites.Count == 0)
            {
                return;
            }
            foreach (var path in _pendingWrites.TakeDue(Stopwatch.GetTimestamp()))
            {
                _batch.Change(path, ChangeHint.Written, false);
            }
            outgoing = _batch.Drain();
        }
        Emit(outgoing, token);
    }

    private void RetryUnwatched(CancellationToken token)
    {
        List<WatchNotification> outgoing;
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            if (!_watches.HasUnwatched)
            {
                _nextRetry = 0;
                return;
            }
            if (_nextRetry == 0)
            {
                _nextRetry = now + _retryTicks;
                return;
            }
            if (now < _nextRetry)
            {
                return;
            }
            _nextRetry = now + _retryTicks;
            _watches.RetryUnwatched(_batch);
            outgoing = _batch.Drain();
        }
        Emit(outgoing, token);
    }

    private int NextTimeoutMs()
    {
        var timeout = _options.PollTimeout.TotalMilliseconds;
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            if (_pendingWrites.NextDue() is { } due)
            {
                timeout = Math.Min(timeout, Stopwatch.GetElapsedTime(now, Math.Max(now, due)).TotalMilliseconds);
            }
            if (_nextRetry != 0)
            {
                timeout = Math.Min(timeout, Stopwatch.GetElapsedTime(now, Math.Max(now, _nextRetry)).TotalMilliseconds);
            }
        }
        return (int)Math.Ceiling(timeout);
    }

    /// <summary>
    /// Hands notifications to the channel. When it is full this blocks the read loop on purpose: the kernel queue
    /// then takes the backlog and, if it overflows too, the overflow becomes a rescan instead of unbounded memory.
    /// The blocking wait is on the loop's own thread (or an AddRoot caller's), never on a pool thread the loop holds.
    /// </summary>
    private void Emit(List<WatchNotification> notifications, CancellationToken token)
    {
        foreach (var notification in notifications)
        {
            while (!_channel.Writer.TryWrite(notification))
            {
                // Backpressure: this runs on the watcher's own thread (see RunAsync), which is meant to block while the
                // channel is full; no pool thread and no synchronization context is held.
#pragma warning disable VSTHRD002
                if (!_channel.Writer.WaitToWriteAsync(token).AsTask().GetAwaiter().GetResult())
#pragma warning restore VSTHRD002
                {
                    return;
                }
            }
            Counters.Emitted(notification);
        }
    }

    private static byte[] NormalizeRoot(byte[] path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path[0] != (byte)'/')
        {
            throw new ArgumentException($"A watch root must be an absolute path: '{PathBytes.ToDisplay(path)}'.", nameof(path));
        }
        var end = path.Length;
        while (end > 1 && path[end - 1] == (byte)'/')
        {
            end--;
        }
        return path[..end];
    }

    public async ValueTask DisposeAsync()
    {
        bool wasRunning;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            wasRunning = _running;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        if (wasRunning)
        {
            // A loop failure is the RunAsync caller's to observe; disposing only waits for the loop to end.
            await _loopDone.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        lock (_gate)
        {
            Libc.close(_fd);
        }
        // _stop is not disposed: a concurrent AddRoot may still hold its token, and it owns no unmanaged resource.
        _channel.Writer.TryComplete();
    }
}

using System.Buffers.Binary;
using System.Diagnostics;
using System.Threading.Channels;
using Fim.Agent.Realtime;
using Fim.Contracts;
using Fim.Core.Model;
using Fim.Core.Native;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.WhoData;

/// <summary>
/// Watches the policy's roots with fanotify (FAN_REPORT_DFID_NAME, one FAN_MARK_FILESYSTEM mark per file system, so no
/// watch limit and no window after a directory is created) and attaches the writer to every change: the event's pid,
/// and its pidfd (FAN_REPORT_PIDFD), which tells whether the writer was still alive when the event was read. Events
/// outside the roots (the mark covers the whole file system) are dropped before the writer is looked up.
/// Needs CAP_SYS_ADMIN (fanotify) and CAP_DAC_READ_SEARCH (open_by_handle_at).
/// </summary>
public sealed class FanotifyWatcher : IFileWatcher
{
    private const int ReadBufferSize = 256 * 1024;

    private readonly ILogger _logger;
    private readonly ActorResolver? _resolver;
    private readonly BpfProcessFeed? _feed;
    private readonly ProcessTable? _table;
    private readonly Channel<WatchNotification> _channel;
    private readonly Lock _gate = new();
    private readonly List<(byte[] Root, Func<byte[], bool> ShouldWatch)> _roots = [];
    private readonly Dictionary<ulong, int> _mountFds = [];
    private readonly Dictionary<byte[], byte[]?> _directories = new(PathComparer.Instance);
    private readonly PendingWrites _pendingWrites = new(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), Stopwatch.Frequency);
    private readonly Dictionary<byte[], Actor> _pendingActors = new(PathComparer.Instance);
    private readonly List<WatchNotification> _outgoing = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _loopDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _fd;
    private bool _running;
    private bool _disposed;

    /// <param name="resolver">Names writers; null reports changes without an actor.</param>
    /// <param name="feed">The process feed the resolver's table is drained from, on this watcher's thread.</param>
    public FanotifyWatcher(ILogger logger, ActorResolver? resolver, BpfProcessFeed? feed, ProcessTable? table, int channelCapacity = 4096)
    {
        _logger = logger;
        _resolver = resolver;
        _feed = feed;
        _table = table;
        var flags = FanotifyNative.FanClassNotif | FanotifyNative.FanCloexec | FanotifyNative.FanNonblock
            | FanotifyNative.FanReportDfidName | FanotifyNative.FanReportPidfd;
        _fd = FanotifyNative.FanotifyInit(flags, (uint)(Libc.O_RDONLY | Libc.O_CLOEXEC | FanotifyNative.OLargeFile));
        if (_fd < 0)
        {
            var errno = Libc.LastError;
            throw new WhoDataUnavailableException(errno == Libc.EPERM
                ? "fanotify needs CAP_SYS_ADMIN, which the agent does not have"
                : $"fanotify_init with FAN_REPORT_DFID_NAME and FAN_REPORT_PIDFD failed: {Libc.Describe(errno)} (needs Linux 5.15 or later)");
        }
        _channel = Channel.CreateBounded<WatchNotification>(new BoundedChannelOptions(channelCapacity)
        {
            SingleReader = false,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public ChannelReader<WatchNotification> Notifications => _channel.Reader;

    public int WatchCount
    {
        get
        {
            lock (_gate)
            {
                return _mountFds.Count;
            }
        }
    }

    /// <summary>Events read from the kernel, and how many of them were inside the roots.</summary>
    public long EventsRead { get; private set; }

    public long EventsInScope { get; private set; }

    public int AddRoot(byte[] root, Func<byte[], bool> shouldWatchDirectory)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(shouldWatchDirectory);
        var end = root.Length;
        while (end > 1 && root[end - 1] == (byte)'/')
        {
            end--;
        }
        root = root[..end];
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _roots.Add((root, shouldWatchDirectory));
            _directories.Clear();
            return MarkFileSystemOf(root);
        }
    }

    /// <summary>
    /// Marks the file system holding <paramref name="root"/> without watching the root yet: the selector does it
    /// first, so a file system fanotify cannot mark (no file handles) means inotify, not a failing policy.
    /// </summary>
    public void Probe(byte[] root)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            MarkFileSystemOf(root);
        }
    }

    private int MarkFileSystemOf(byte[] root)
    {
        // A root that does not exist yet (or a file) lives on its nearest existing directory's file system. Not
        // O_PATH: open_by_handle_at refuses an O_PATH descriptor as its mount fd (EBADF).
        var at = root;
        int fd;
        while (Posix.OpenPath(at, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, out fd) != 0)
        {
            if (at.Length <= 1)
            {
                throw new IOException($"cannot open {PathBytes.ToDisplay(root)} or any parent for a fanotify mark");
            }
            at = PathBytes.Parent(at).ToArray();
        }
        try
        {
            var fsid = FileSystemId(fd);
            if (_mountFds.ContainsKey(fsid))
            {
                Libc.close(fd);
                return 0;
            }
            Mark(at);
            _mountFds[fsid] = fd;
            return 1;
        }
        catch
        {
            Libc.close(fd);
            throw;
        }
    }

    private unsafe void Mark(byte[] path)
    {
        fixed (byte* p = Posix.Z(path))
        {
            if (FanotifyNative.FanotifyMark(_fd, FanotifyNative.FanMarkAdd | FanotifyNative.FanMarkFilesystem, FanotifyNative.WatchMask, Libc.AT_FDCWD, p) != 0)
            {
                var errno = Libc.LastError;
                throw new IOException($"fanotify_mark on the file system of {PathBytes.ToDisplay(path)} failed: {Libc.Describe(errno)}");
            }
        }
    }

    private static unsafe ulong FileSystemId(int fd)
    {
        // struct statfs on 64-bit Linux: seven longs, then f_fsid (two ints) at offset 56.
        var buf = stackalloc byte[120];
        if (FanotifyNative.FStatFs(fd, buf) != 0)
        {
            throw new IOException($"fstatfs failed: {Libc.Describe(Libc.LastError)}");
        }
        return *(ulong*)(buf + 56);
    }

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
        var thread = new Thread(() => Run(ct)) { Name = "fim-fanotify", IsBackground = true };
        thread.Start();
        return _loopDone.Task;
    }

    private void Run(CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token);
        var token = linked.Token;
        var buffer = GC.AllocateUninitializedArray<byte>(ReadBufferSize, pinned: true);
        Exception? failure = null;
        try
        {
            while (!token.IsCancellationRequested)
            {
                WaitReadable(NextTimeoutMs());
                ReadAll(buffer, token);
                FlushDueWrites(token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            failure = ex;
            _logger.LogError(ex, "the fanotify read loop failed");
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

    /// <summary>Waits for file events, or for process records (which <see cref="ReadAll"/> drains before it reads).</summary>
    private unsafe void WaitReadable(int timeoutMs)
    {
        var pollFds = stackalloc InotifyNative.PollFd[2];
        pollFds[0] = new InotifyNative.PollFd { Fd = _fd, Events = InotifyNative.PollIn };
        var count = 1;
        if (_feed is not null)
        {
            pollFds[count++] = new InotifyNative.PollFd { Fd = _feed.WakeFd, Events = InotifyNative.PollIn };
        }
        if (InotifyNative.Poll(pollFds, (nuint)count, timeoutMs) < 0 && Libc.LastError != Libc.EINTR)
        {
            throw new IOException($"poll on the fanotify fd failed: {Libc.Describe(Libc.LastError)}");
        }
    }

    /// <summary>
    /// Reads until the queue is empty. The process feed is drained before each read and again before the events are
    /// resolved, so every exec and exit that happened before a write is in the table; once a read finds the queue
    /// empty, processes whose exit was drained before it can have no unread event left, and are purged.
    /// </summary>
    private unsafe void ReadAll(byte[] buffer, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            _feed?.Drain();
            var drainBefore = _table?.Drain ?? 0;
            nint n;
            fixed (byte* p = buffer)
            {
                n = Libc.read(_fd, p, buffer.Length);
            }
            if (n < 0)
            {
                var errno = Libc.LastError;
                if (errno == Libc.EAGAIN)
                {
                    _table?.Purge(drainBefore);
                    return;
                }
                if (errno == Libc.EINTR)
                {
                    continue;
                }
                throw new IOException($"read on the fanotify fd failed: {Libc.Describe(errno)}");
            }
            _feed?.Drain();
            _resolver?.BeginBatch();
            lock (_gate)
            {
                Parse(buffer.AsSpan(0, (int)n), Stopwatch.GetTimestamp());
            }
            Emit(token);
            FlushDueWrites(token); // a queue that never empties must not hold back quiet files
        }
    }

    private void Parse(ReadOnlySpan<byte> data, long now)
    {
        while (data.Length >= 24)
        {
            var eventLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
            if (eventLen < 24 || eventLen > data.Length)
            {
                throw new InvalidDataException($"Truncated fanotify event: {eventLen} bytes in a buffer of {data.Length}.");
            }
            var metadataLen = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
            var mask = BinaryPrimitives.ReadUInt64LittleEndian(data[8..]);
            var pid = BinaryPrimitives.ReadInt32LittleEndian(data[20..]);
            var pidfd = FanotifyNative.NoPidfd;
            ReadOnlySpan<byte> dirKey = default;
            ReadOnlySpan<byte> name = default;
            var info = data[metadataLen..eventLen];
            while (info.Length >= 4)
            {
                var type = info[0];
                var len = BinaryPrimitives.ReadUInt16LittleEndian(info[2..]);
                if (len < 4 || len > info.Length)
                {
                    break;
                }
                var record = info[..len];
                if (type is FanotifyNative.InfoDfidName or FanotifyNative.InfoDfid && record.Length >= 20)
                {
                    var handleBytes = (int)BinaryPrimitives.ReadUInt32LittleEndian(record[12..]);
                    var keyEnd = Math.Min(20 + handleBytes, record.Length);
                    dirKey = record[4..keyEnd]; // fsid, then struct file_handle
                    if (type == FanotifyNative.InfoDfidName)
                    {
                        name = record[keyEnd..];
                        var nul = name.IndexOf((byte)0);
                        name = nul >= 0 ? name[..nul] : name;
                    }
                }
                else if (type == FanotifyNative.InfoPidfd && record.Length >= 8)
                {
                    pidfd = BinaryPrimitives.ReadInt32LittleEndian(record[4..]);
                }
                info = info[len..];
            }
            try
            {
                EventsRead++;
                Handle(mask, pid, pidfd, dirKey, name, now);
            }
            finally
            {
                if (pidfd >= 0)
                {
                    Libc.close(pidfd);
                }
            }
            data = data[eventLen..];
        }
    }

    private void Handle(ulong mask, int pid, int pidfd, ReadOnlySpan<byte> dirKey, ReadOnlySpan<byte> name, long now)
    {
        if ((mask & FanotifyNative.FanQOverflow) != 0)
        {
            _logger.LogWarning("fanotify queue overflowed: events were lost, rescanning every root");
            _directories.Clear();
            foreach (var (root, _) in _roots)
            {
                _outgoing.Add(new SubtreeRescan(root, RescanReason.QueueOverflow));
            }
            return;
        }
        if (dirKey.IsEmpty)
        {
            return;
        }
        var isDir = (mask & FanotifyNative.FanOnDir) != 0;
        if (isDir && (mask & (FanotifyNative.FanMovedFrom | FanotifyNative.FanMovedTo | FanotifyNative.FanDelete)) != 0)
        {
            // Cached directory paths may now be wrong; they are cheap to resolve again.
            _directories.Clear();
        }
        if (Directory(dirKey) is not { } dir)
        {
            return;
        }
        var path = name.IsEmpty || name.SequenceEqual("."u8) ? dir : PathBytes.Join(dir, name);
        if (!InScope(path))
        {
            return;
        }
        EventsInScope++;
        var actor = _resolver?.Resolve(pid, pidfd);
        if ((mask & FanotifyNative.FanModify) != 0 && (mask & FanotifyNative.FanCloseWrite) == 0)
        {
            _pendingWrites.Modified(path, now);
            if (actor is not null)
            {
                _pendingActors[path] = actor;
            }
        }
        if ((mask & FanotifyNative.FanCloseWrite) != 0)
        {
            _pendingWrites.Remove(path);
            // The close is reported for whichever process dropped the file's last reference: a child that inherited
            // the descriptor, or one that held it a moment through /proc/PID/fd. The write itself names the writer.
            if (_pendingActors.Remove(path, out var writer) && (mask & FanotifyNative.FanModify) == 0)
            {
                actor = writer;
            }
            Change(path, ChangeHint.Written, false, actor);
        }
        if ((mask & FanotifyNative.FanAttrib) != 0)
        {
            Change(path, ChangeHint.Attributes, isDir, actor);
        }
        if ((mask & FanotifyNative.FanCreate) != 0)
        {
            // Not a subtree rescan: the file system mark reports whatever is made inside a new directory from its first entry.
            Change(path, ChangeHint.Created, false, actor);
        }
        if ((mask & FanotifyNative.FanDelete) != 0)
        {
            Gone(path, isDir);
            Change(path, ChangeHint.Deleted, isDir, actor);
        }
        if ((mask & FanotifyNative.FanMovedFrom) != 0)
        {
            Gone(path, isDir);
            Change(path, ChangeHint.MovedOut, isDir, actor);
        }
        if ((mask & FanotifyNative.FanMovedTo) != 0)
        {
            _pendingWrites.Remove(path);
            Change(path, ChangeHint.MovedIn, isDir, actor);
        }
    }

    private void Change(byte[] path, ChangeHint hint, bool isDirectory, Actor? actor) =>
        _outgoing.Add(new PathChanged(path, hint, isDirectory) { Actor = actor });

    private void Gone(byte[] path, bool isDir)
    {
        _pendingWrites.Remove(path);
        _pendingActors.Remove(path);
        if (isDir)
        {
            _pendingWrites.RemoveUnder(path);
        }
    }

    /// <summary>Inside a root, and no directory on the way down is one the policy leaves unwatched (excluded, too deep).</summary>
    private bool InScope(byte[] path)
    {
        foreach (var (root, shouldWatch) in _roots)
        {
            if (!PathBytes.IsUnder(path, root))
            {
                continue;
            }
            var ok = true;
            var dir = PathBytes.Parent(path).ToArray();
            while (dir.Length > root.Length && PathBytes.IsUnder(dir, root))
            {
                if (!shouldWatch(dir))
                {
                    ok = false;
                    break;
                }
                dir = PathBytes.Parent(dir).ToArray();
            }
            if (ok)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The directory an event's handle names, as this process sees it now; null when it is gone.</summary>
    private unsafe byte[]? Directory(ReadOnlySpan<byte> key)
    {
        var lookup = _directories.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(key, out var cached))
        {
            return cached;
        }
        byte[]? path = null;
        var fsid = BinaryPrimitives.ReadUInt64LittleEndian(key);
        if (_mountFds.TryGetValue(fsid, out var mountFd) && key.Length >= 16)
        {
            int fd;
            fixed (byte* handle = key[8..])
            {
                fd = FanotifyNative.OpenByHandleAt(mountFd, handle, Libc.O_PATH | Libc.O_CLOEXEC);
            }
            if (fd >= 0)
            {
                try
                {
                    path = Posix.ReadLinkPath(System.Text.Encoding.ASCII.GetBytes($"/proc/self/fd/{fd}"));
                }
                finally
                {
                    Libc.close(fd);
                }
            }
        }
        if (_directories.Count > 65536)
        {
            _directories.Clear();
        }
        lookup[key] = path;
        return path;
    }

    private void FlushDueWrites(CancellationToken token)
    {
        lock (_gate)
        {
            if (_pendingWrites.Count == 0)
            {
                return;
            }
            foreach (var path in _pendingWrites.TakeDue(Stopwatch.GetTimestamp()))
            {
                _pendingActors.Remove(path, out var actor);
                Change(path, ChangeHint.Written, false, actor);
            }
        }
        Emit(token);
    }

    private int NextTimeoutMs()
    {
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            return _pendingWrites.NextDue() is { } due
                ? (int)Math.Ceiling(Math.Min(500, Stopwatch.GetElapsedTime(now, Math.Max(now, due)).TotalMilliseconds))
                : 500;
        }
    }

    /// <summary>Hands notifications on; a full channel blocks this thread on purpose (the kernel queue takes the backlog).</summary>
    private void Emit(CancellationToken token)
    {
        List<WatchNotification> batch;
        lock (_gate)
        {
            if (_outgoing.Count == 0)
            {
                return;
            }
            batch = [.. _outgoing];
            _outgoing.Clear();
        }
        foreach (var notification in batch)
        {
            while (!_channel.Writer.TryWrite(notification))
            {
#pragma warning disable VSTHRD002 // the watcher's own thread, meant to block while the channel is full
                if (!_channel.Writer.WaitToWriteAsync(token).AsTask().GetAwaiter().GetResult())
#pragma warning restore VSTHRD002
                {
                    return;
                }
            }
        }
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
            await _loopDone.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        lock (_gate)
        {
            Libc.close(_fd);
            foreach (var fd in _mountFds.Values)
            {
                Libc.close(fd);
            }
        }
        _feed?.Dispose();
        _channel.Writer.TryComplete();
    }
}

using System.Diagnostics;
using Fim.Agent.Realtime;
using Fim.Core.Model;

namespace Fim.Agent.Tests.Realtime;

/// <summary>A running watcher over a temp tree, collecting every notification so tests can await the ones they expect.</summary>
internal sealed class WatcherHarness : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = Fim.Testing.Eventually.DefaultTimeout;

    private readonly List<WatchNotification> _received = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly CancellationTokenSource _cts = new();
    private Task? _loop;
    private Task? _collector;
    private int _markers;

    public WatcherHarness(WatchedDirectory tree, InotifyWatcherOptions? options = null)
    {
        Tree = tree;
        Logger = new ListLogger<InotifyWatcher>();
        Watcher = new InotifyWatcher(options ?? new InotifyWatcherOptions(), Logger);
    }

    public WatchedDirectory Tree { get; }
    public InotifyWatcher Watcher { get; }
    public ListLogger<InotifyWatcher> Logger { get; }
    public Task Loop => _loop ?? throw new InvalidOperationException("Not started.");

    public static async Task<WatcherHarness> StartAsync(WatchedDirectory tree, InotifyWatcherOptions? options = null, WatchRoot? root = null)
    {
        var harness = new WatcherHarness(tree, options);
        harness.Watcher.AddRoot(root ?? new WatchRoot(tree.Root));
        harness.Start();
        await harness.SyncAsync();
        return harness;
    }

    public void Start()
    {
        _loop = Task.Factory.StartNew(() => Watcher.RunAsync(_cts.Token), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        _collector = Task.Run(async () =>
        {
            await foreach (var n in Watcher.Notifications.ReadAllAsync())
            {
                lock (_received)
                {
                    _received.Add(n);
                }
                _arrived.Release();
            }
        });
    }

    public void Stop() => _cts.Cancel();

    public List<WatchNotification> Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    public List<PathChanged> ChangesFor(byte[] path) =>
        Received.OfType<PathChanged>().Where(c => PathComparer.Instance.Equals(c.Path, path)).ToList();

    /// <summary>Waits until a notification matching <paramref name="match"/> has arrived; fails with what did arrive.</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool> match, TimeSpan? timeout = null, string? what = null)
        where T : WatchNotification
    {
        var deadline = Stopwatch.GetTimestamp() + (long)((timeout ?? Deadline).TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var found = Received.OfType<T>().FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail($"No {what ?? typeof(T).Name} within {(timeout ?? Deadline).TotalSeconds} s. Received:\n  "
                    + string.Join("\n  ", Received) + "\nLog:\n  " + string.Join("\n  ", Logger.Messages));
            }
            await _arrived.WaitAsync(left > TimeSpan.FromMilliseconds(200) ? TimeSpan.FromMilliseconds(200) : left);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds over everything received so far.</summary>
    public async Task WaitUntilAsync(Func<List<WatchNotification>, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)((timeout ?? Deadline).TotalSeconds * Stopwatch.Frequency);
        while (!condition(Received))
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail($"Not reached within {(timeout ?? Deadline).TotalSeconds} s: {what}. Received:\n  "
                    + string.Join("\n  ", Received) + "\nLog:\n  " + string.Join("\n  ", Logger.Messages));
            }
            await _arrived.WaitAsync(left > TimeSpan.FromMilliseconds(200) ? TimeSpan.FromMilliseconds(200) : left);
        }
    }

    public Task<PathChanged> WaitForChangeAsync(byte[] path, ChangeHint hint, TimeSpan? timeout = null) =>
        WaitForAsync<PathChanged>(c => PathComparer.Instance.Equals(c.Path, path) && c.Hint.HasFlag(hint), timeout,
            $"PathChanged({PathBytes.ToDisplay(path)}, {hint})");

    /// <summary>
    /// Creates a marker file and waits for it. inotify delivers events in order and the watcher keeps that order,
    /// so once the marker is seen every earlier immediate event has been reported: absence can be asserted without sleeping.
    /// </summary>
    public async Task SyncAsync()
    {
        var marker = PathBytes.Join(Tree.Root, PathBytes.FromString($".sync-{Interlocked.Increment(ref _markers)}"));
        File.WriteAllBytes(PathBytes.ToDisplay(marker), []);
        await WaitForChangeAsync(marker, ChangeHint.Written);
    }

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        await Watcher.DisposeAsync();
        if (_loop is not null)
        {
            await _loop;
        }
        if (_collector is not null)
        {
            await _collector;
        }
        _cts.Dispose();
    }
}

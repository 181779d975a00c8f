namespace Fim.Agent.Realtime;

/// <summary>Monotonic counters for metrics export; safe to read from any thread.</summary>
public sealed class WatcherCounters
{
    private long _overflows;
    private long _watchLimitHits;
    private long _watchErrors;
    private long _notificationsEmitted;
    private long _rescansRequested;
    private long _eventsRead;

    /// <summary>IN_Q_OVERFLOW events received.</summary>
    public long Overflows => Interlocked.Read(ref _overflows);

    /// <summary>Directories that could not be watched because of ENOSPC or <see cref="InotifyWatcherOptions.MaxWatches"/>.</summary>
    public long WatchLimitHits => Interlocked.Read(ref _watchLimitHits);

    /// <summary>Watches that failed for another reason (EACCES, ENOMEM, ...) or were dropped by the kernel (unmount).</summary>
    public long WatchErrors => Interlocked.Read(ref _watchErrors);

    /// <summary>Notifications of either kind written to the channel.</summary>
    public long NotificationsEmitted => Interlocked.Read(ref _notificationsEmitted);

    /// <summary>SubtreeRescan notifications written to the channel (a subset of <see cref="NotificationsEmitted"/>).</summary>
    public long RescansRequested => Interlocked.Read(ref _rescansRequested);

    /// <summary>Raw inotify events parsed.</summary>
    public long EventsRead => Interlocked.Read(ref _eventsRead);

    internal void Overflow() => Interlocked.Increment(ref _overflows);
    internal void WatchLimitHit() => Interlocked.Increment(ref _watchLimitHits);
    internal void WatchError() => Interlocked.Increment(ref _watchErrors);
    internal void Emitted(WatchNotification notification)
    {
        Interlocked.Increment(ref _notificationsEmitted);
        if (notification is SubtreeRescan)
        {
            Interlocked.Increment(ref _rescansRequested);
        }
    }
    internal void EventsParsed(int count) => Interlocked.Add(ref _eventsRead, count);
}

namespace Fim.Agent.Realtime;

public sealed class InotifyWatcherOptions
{
    /// <summary>A file written without a close is reported once it has been quiet this long.</summary>
    public TimeSpan QuietPeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A file written continuously without a close is reported at least this often.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Bytes per read(2); one read is the unit within which immediate events are coalesced.</summary>
    public int ReadBufferSize { get; init; } = 64 * 1024;

    /// <summary>Longest wait in poll(2); bounds how long cancellation takes to be noticed.</summary>
    public TimeSpan PollTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often directories left unwatched (watch limit, missing root) are tried again.</summary>
    public TimeSpan WatchRetryInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A cap on this watcher's own watches, below the kernel's max_user_watches, so the agent leaves room for
    /// other inotify users on the host. Reaching it is handled exactly like ENOSPC. Null: only the kernel limit.
    /// </summary>
    public int? MaxWatches { get; init; }

    /// <summary>Notifications buffered for a slow consumer; when full the watcher stops reading and the kernel queue absorbs the rest.</summary>
    public int ChannelCapacity { get; init; } = 65_536;

    /// <summary>Applied to every root on top of the root's own predicate: (directory path, depth below its root) -> watch it.</summary>
    public Func<byte[], int, bool>? ShouldWatch { get; init; }

    internal void Validate()
    {
        if (QuietPeriod < TimeSpan.Zero || MaxDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(QuietPeriod), "QuietPeriod and MaxDelay must not be negative.");
        }
        if (ReadBufferSize < 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(ReadBufferSize), ReadBufferSize, "ReadBufferSize must be at least 4096 bytes (one event can take NAME_MAX + 17).");
        }
        if (PollTimeout <= TimeSpan.Zero || WatchRetryInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(PollTimeout), "PollTimeout and WatchRetryInterval must be positive.");
        }
        if (MaxWatches is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxWatches), MaxWatches, "MaxWatches must be at least 1.");
        }
        if (ChannelCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ChannelCapacity), ChannelCapacity, "ChannelCapacity must be at least 1.");
        }
    }
}

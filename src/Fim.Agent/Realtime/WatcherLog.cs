using Microsoft.Extensions.Logging;

namespace Fim.Agent.Realtime;

internal static partial class WatcherLog
{
    [LoggerMessage(1, LogLevel.Information, "Watching {Root}: {Directories} directories ({Watches} watches held in total)")]
    public static partial void RootWatched(this ILogger logger, string root, int directories, int watches);

    [LoggerMessage(2, LogLevel.Warning, "Cannot watch root {Root}: {Error}; it is watched once it appears as a directory")]
    public static partial void RootUnavailable(this ILogger logger, string root, string error);

    [LoggerMessage(3, LogLevel.Warning, "inotify watch limit reached at {Directory} ({Watches} watches held): directories below {Subtree} are not watched; requesting a rescan and retrying every {Retry}. Raise fs.inotify.max_user_watches (or MaxWatches)")]
    public static partial void WatchLimitReached(this ILogger logger, string directory, int watches, string subtree, TimeSpan retry);

    [LoggerMessage(4, LogLevel.Warning, "Cannot watch {Directory}: {Error}; requesting a rescan")]
    public static partial void WatchFailed(this ILogger logger, string directory, string error);

    [LoggerMessage(5, LogLevel.Warning, "Cannot list {Directory}: {Error}; its subdirectories are not watched")]
    public static partial void ListFailed(this ILogger logger, string directory, string error);

    [LoggerMessage(6, LogLevel.Warning, "inotify queue overflowed, events were lost: re-walking and rescanning {Roots} root(s). Raise fs.inotify.max_queued_events if this repeats")]
    public static partial void QueueOverflowed(this ILogger logger, int roots);

    [LoggerMessage(7, LogLevel.Warning, "The kernel dropped the watch on {Directory} (unmounted?); requesting a rescan")]
    public static partial void WatchDropped(this ILogger logger, string directory);

    [LoggerMessage(8, LogLevel.Warning, "Root {Root} was {What}; requesting a rescan and watching for it to reappear")]
    public static partial void RootGone(this ILogger logger, string root, string what);

    [LoggerMessage(9, LogLevel.Information, "Watching {Directory} again after it was left unwatched ({Reason}); requesting a rescan")]
    public static partial void Rewatched(this ILogger logger, string directory, RescanReason reason);

    [LoggerMessage(10, LogLevel.Debug, "Dropped {Count} watch(es) whose directories vanished while events were lost")]
    public static partial void StaleWatchesDropped(this ILogger logger, int count);

    [LoggerMessage(11, LogLevel.Error, "The inotify read loop failed")]
    public static partial void LoopFailed(this ILogger logger, Exception exception);
}

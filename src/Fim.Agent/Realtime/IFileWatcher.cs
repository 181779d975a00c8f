using System.Threading.Channels;

namespace Fim.Agent.Realtime;

/// <summary>A realtime source of changed paths for the watch loop: inotify, or fanotify with the writer attached.</summary>
public interface IFileWatcher : IAsyncDisposable
{
    ChannelReader<WatchNotification> Notifications { get; }

    /// <summary>Watches in place (directories for inotify, filesystem marks for fanotify).</summary>
    int WatchCount { get; }

    /// <returns>The number of watches added for this root.</returns>
    int AddRoot(byte[] root, Func<byte[], bool> shouldWatchDirectory);

    /// <summary>Starts the read loop on a thread of its own; completes when cancelled, faults when the loop fails.</summary>
    Task RunAsync(CancellationToken ct);
}

using Fim.Testing;
using Fim.Agent.Realtime;
using Fim.Core.Model;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Tests.Realtime;

/// <summary>Where events cannot be delivered the watcher must ask for a rescan and say so, never go quiet.</summary>
[Collection(InotifyCollection.Name)]
public sealed class InotifyWatcherLossTests
{
    [Fact]
    public async Task Queue_overflow_requests_a_rescan_counts_it_and_watches_directories_created_meanwhile()
    {
        using var tree = new WatchedDirectory();
        WatcherHarness created;
        // The kernel copies max_queued_events into the inotify instance at inotify_init1, so the host-wide value
        // only needs to be low while the watcher is constructed.
        using (Sysctl.Set("fs/inotify/max_queued_events", 16))
        {
            created = new WatcherHarness(tree);
        }
        await using var h = created;
        h.Watcher.AddRoot(tree.Root, _ => true);

        // The reader is not running yet, so these events pile up in the 16-slot kernel queue.
        for (var i = 0; i < 100; i++)
        {
            File.WriteAllText(tree.PathOf($"f{i}"), "x");
        }
        Directory.CreateDirectory(tree.PathOf("late"));
        h.Start();

        var rescan = await h.WaitForAsync<SubtreeRescan>(r => r.Reason == RescanReason.QueueOverflow);
        Assert.Equal(tree.Root, rescan.Root);
        Assert.Equal(1, h.Watcher.Counters.Overflows);
        Assert.True(h.Watcher.Counters.RescansRequested >= 1);
        Assert.True(h.Logger.Has(LogLevel.Warning, "overflowed"), string.Join("\n", h.Logger.Messages));

        // "late" was created after the queue was full: its IN_CREATE was lost, the resynchronisation watched it.
        File.WriteAllText(tree.PathOf("late/x"), "x");
        await h.WaitForChangeAsync(tree.BytesOf("late/x"), ChangeHint.Written);
    }

    [Fact]
    public async Task Real_watch_limit_requests_a_rescan_of_the_unwatched_directory_and_retries()
    {
        using var tree = new WatchedDirectory();
        using var limited = new WatchedDirectory();
        Directory.CreateDirectory(limited.PathOf("fresh/deeper"));
        await using var h = await WatcherHarness.StartAsync(tree, new InotifyWatcherOptions
        {
            WatchRetryInterval = TimeSpan.FromMilliseconds(200),
        });

        // max_user_watches counts every watch of this uid on the host, so 1 is below what is held already and the
        // next inotify_add_watch fails with ENOSPC. The limit is host-wide: every other inotify user (another
        // test run, an agent) that adds a watch while it is low fails too, so it is held only around one
        // synchronous AddRoot, never while waiting for the watcher's own thread.
        int watched;
        using (Sysctl.Set("fs/inotify/max_user_watches", 1))
        {
            watched = h.Watcher.AddRoot(limited.Root, _ => true);
        }
        Assert.Equal(0, watched);
        var rescan = await h.WaitForAsync<SubtreeRescan>(r => PathComparer.Instance.Equals(r.Root, limited.Root));
        Assert.Equal(RescanReason.WatchLimit, rescan.Reason);
        Assert.Equal(1, h.Watcher.Counters.WatchLimitHits);
        Assert.True(h.Logger.Has(LogLevel.Warning, "watch limit reached"), string.Join("\n", h.Logger.Messages));

        // Once watches are available again the retry watches the directory and asks for another rescan, since
        // changes made while it was unwatched were missed.
        await h.WaitUntilAsync(
            received => received.OfType<SubtreeRescan>().Count(r => PathComparer.Instance.Equals(r.Root, limited.Root)) >= 2,
            "second rescan after the retry");
        File.WriteAllText(limited.PathOf("fresh/deeper/x"), "x");
        await h.WaitForChangeAsync(limited.BytesOf("fresh/deeper/x"), ChangeHint.Written);
    }

    [Fact]
    public async Task MaxWatches_cap_behaves_like_the_kernel_limit()
    {
        using var tree = new WatchedDirectory();
        foreach (var d in new[] { "a", "b", "c", "d", "e" })
        {
            Directory.CreateDirectory(tree.PathOf(d));
        }
        await using var h = new WatcherHarness(tree, new InotifyWatcherOptions { MaxWatches = 3 });

        Assert.Equal(3, h.Watcher.AddRoot(tree.Root, _ => true));
        h.Start();

        Assert.Equal(3, h.Watcher.WatchCount);
        var rescan = await h.WaitForAsync<SubtreeRescan>(r => r.Reason == RescanReason.WatchLimit);
        Assert.Equal(tree.Root, rescan.Root);
        Assert.Equal(1, h.Watcher.Counters.WatchLimitHits);

        Directory.CreateDirectory(tree.PathOf("f"));
        await h.WaitForAsync<SubtreeRescan>(r => r.Reason == RescanReason.WatchLimit && PathComparer.Instance.Equals(r.Root, tree.BytesOf("f")));
        Assert.Equal(3, h.Watcher.WatchCount);
    }

    [Fact]
    public async Task Missing_root_is_watched_once_it_appears()
    {
        using var tree = new WatchedDirectory();
        var root = tree.BytesOf("later");
        await using var h = new WatcherHarness(tree, new InotifyWatcherOptions { WatchRetryInterval = TimeSpan.FromMilliseconds(100) });
        Assert.Equal(0, h.Watcher.AddRoot(root, _ => true));
        Assert.True(h.Logger.Has(LogLevel.Warning, "later"));
        h.Start();

        Directory.CreateDirectory(tree.PathOf("later"));
        await h.WaitForAsync<SubtreeRescan>(r => PathComparer.Instance.Equals(r.Root, root));
        File.WriteAllText(tree.PathOf("later/f"), "x");
        await h.WaitForChangeAsync(tree.BytesOf("later/f"), ChangeHint.Written);
    }

    [Fact]
    public async Task Cancellation_stops_the_loop_promptly_and_completes_the_channel()
    {
        using var tree = new WatchedDirectory();
        await using var h = await WatcherHarness.StartAsync(tree);

        h.Stop();
        await Fim.Testing.Eventually.WithinAsync(h.Loop, "the loop to stop on cancellation");
        await Fim.Testing.Eventually.WithinAsync(h.Watcher.Notifications.Completion, "the channel to complete");
    }
}

using Fim.Agent.Realtime;
using Fim.Core.Model;
using Fim.Core.Policy;

namespace Fim.Agent.Tests.Realtime;

[Collection(InotifyCollection.Name)]
public sealed class InotifyWatcherTreeTests
{
    [Fact]
    public async Task Existing_tree_is_watched_recursively()
    {
        using var tree = new WatchedDirectory();
        Directory.CreateDirectory(tree.PathOf("a/b/c"));
        Directory.CreateDirectory(tree.PathOf("x"));
        await using var h = await WatcherHarness.StartAsync(tree);
        Assert.Equal(5, h.Watcher.WatchCount);

        File.WriteAllText(tree.PathOf("a/b/c/deep.txt"), "x");

        await h.WaitForChangeAsync(tree.BytesOf("a/b/c/deep.txt"), ChangeHint.Written);
    }

    [Fact]
    public async Task File_created_right_after_mkdir_p_is_reported_or_covered_by_a_rescan()
    {
        using var tree = new WatchedDirectory();
        await using var h = await WatcherHarness.StartAsync(tree);
        var file = tree.BytesOf("a/b/c/f");

        Directory.CreateDirectory(tree.PathOf("a/b/c"));
        File.WriteAllText(tree.PathOf("a/b/c/f"), "x");

        await h.WaitUntilAsync(received => received.Any(n => n switch
        {
            PathChanged c => PathComparer.Instance.Equals(c.Path, file),
            SubtreeRescan r => PathBytes.IsUnder(file, r.Root),
            _ => false,
        }), "f reported or covered by a SubtreeRescan");
        var rescan = await h.WaitForAsync<SubtreeRescan>(r => PathComparer.Instance.Equals(r.Root, tree.BytesOf("a")));
        Assert.Equal(RescanReason.NewDirectory, rescan.Reason);

        // The rescan of a is emitted when a's watch is added; b and c are watched when their own IN_CREATE is handled,
        // which on a loaded machine can be after this point. A write to c before that is covered by the rescan of
        // a/b/c, not reported as a change, so first wait until every event queued so far has been handled.
        await h.SyncAsync();

        // The new directories are watched from now on.
        File.WriteAllText(tree.PathOf("a/b/c/g"), "y");
        await h.WaitForChangeAsync(tree.BytesOf("a/b/c/g"), ChangeHint.Written);
        Assert.Equal(4, h.Watcher.WatchCount);
    }

    [Fact]
    public async Task Every_deepest_directory_of_many_mkdir_p_is_watched_however_the_creates_interleave_with_the_walk()
    {
        // Each mkdir -p races the watcher: a level may be created before, during or after the watch on its parent
        // is added. Whatever the interleaving, every new directory must end up watched (the walk lists a directory
        // only after its watch exists) and every file written meanwhile reported or covered by a rescan.
        const int trees = 40;
        using var tree = new WatchedDirectory();
        await using var h = await WatcherHarness.StartAsync(tree);

        for (var i = 0; i < trees; i++)
        {
            Directory.CreateDirectory(tree.PathOf($"t{i}/a/b/c/d"));
            File.WriteAllText(tree.PathOf($"t{i}/a/b/c/d/f"), "x");
        }
        for (var i = 0; i < trees; i++)
        {
            var file = tree.BytesOf($"t{i}/a/b/c/d/f");
            await h.WaitUntilAsync(received => received.Any(n => n switch
            {
                PathChanged c => PathComparer.Instance.Equals(c.Path, file),
                SubtreeRescan r => PathBytes.IsUnder(file, r.Root),
                _ => false,
            }), $"t{i}/a/b/c/d/f reported or covered by a SubtreeRescan");
        }

        // Every IN_CREATE queued before the marker has been handled, so every level is watched by now.
        await h.SyncAsync();
        for (var i = 0; i < trees; i++)
        {
            File.WriteAllText(tree.PathOf($"t{i}/a/b/c/d/g"), "y");
        }
        for (var i = 0; i < trees; i++)
        {
            await h.WaitForChangeAsync(tree.BytesOf($"t{i}/a/b/c/d/g"), ChangeHint.Written);
        }
        Assert.Equal(1 + (trees * 5), h.Watcher.WatchCount);
    }

    [Fact]
    public async Task Renamed_directory_reports_under_the_new_path_not_the_old()
    {
        using var tree = new WatchedDirectory();
        Directory.CreateDirectory(tree.PathOf("old/sub"));
        File.WriteAllText(tree.PathOf("old/sub/f.txt"), "x");
        await using var h = await WatcherHarness.StartAsync(tree);
        var watchesBefore = h.Watcher.WatchCount;

        Directory.Move(tree.PathOf("old"), tree.PathOf("new"));
        await h.WaitForChangeAsync(tree.BytesOf("old"), ChangeHint.MovedOut);
        await h.WaitForChangeAsync(tree.BytesOf("new"), ChangeHint.MovedIn);
        var rescan = await h.WaitForAsync<SubtreeRescan>(r => PathComparer.Instance.Equals(r.Root, tree.BytesOf("new")));
        Assert.Equal(RescanReason.DirectoryMoved, rescan.Reason);

        File.WriteAllText(tree.PathOf("new/sub/f.txt"), "changed");
        File.WriteAllText(tree.PathOf("new/sub/g.txt"), "new");
        await h.WaitForChangeAsync(tree.BytesOf("new/sub/f.txt"), ChangeHint.Written);
        await h.WaitForChangeAsync(tree.BytesOf("new/sub/g.txt"), ChangeHint.Written);
        await h.SyncAsync();

        var old = tree.BytesOf("old");
        var underOld = h.Received.OfType<PathChanged>()
            .Where(c => PathBytes.IsUnder(c.Path, old) && !PathComparer.Instance.Equals(c.Path, old)).ToList();
        Assert.Empty(underOld);
        Assert.Equal(watchesBefore, h.Watcher.WatchCount);
    }

    [Fact]
    public async Task Directory_moved_out_of_the_tree_stops_reporting()
    {
        using var tree = new WatchedDirectory();
        using var outside = new WatchedDirectory();
        Directory.CreateDirectory(tree.PathOf("leaving/sub"));
        await using var h = await WatcherHarness.StartAsync(tree);
        Assert.Equal(3, h.Watcher.WatchCount);

        Directory.Move(tree.PathOf("leaving"), outside.PathOf("arrived"));
        await h.WaitForChangeAsync(tree.BytesOf("leaving"), ChangeHint.MovedOut);
        File.WriteAllText(outside.PathOf("arrived/sub/f.txt"), "x");
        await h.SyncAsync();

        Assert.DoesNotContain(h.Received.OfType<PathChanged>(), c => PathBytes.IsUnder(c.Path, tree.BytesOf("leaving/sub")));
        Assert.Equal(1, h.Watcher.WatchCount);
    }

    [Fact]
    public async Task Symlinked_directories_are_not_followed()
    {
        using var tree = new WatchedDirectory();
        using var outside = new WatchedDirectory();
        Directory.CreateSymbolicLink(tree.PathOf("link"), outside.RootText);
        await using var h = await WatcherHarness.StartAsync(tree);
        Assert.Equal(1, h.Watcher.WatchCount);

        File.WriteAllText(outside.PathOf("f.txt"), "x");
        await h.SyncAsync();

        Assert.DoesNotContain(h.Received.OfType<PathChanged>(), c => PathBytes.IsUnder(c.Path, tree.BytesOf("link")));
    }

    [Fact]
    public async Task Rule_depth_and_excludes_limit_the_watched_directories()
    {
        using var tree = new WatchedDirectory();
        Directory.CreateDirectory(tree.PathOf("a/b/c"));
        Directory.CreateDirectory(tree.PathOf("cache/x"));
        var rule = new CompiledPathRule
        {
            Root = tree.Root,
            MaxDepth = 2,
            Exclude = [PathGlob.Compile("cache")],
        };
        await using var h = await WatcherHarness.StartAsync(tree, root: WatchRoot.FromRule(rule));
        // root (depth 0) and a (1) are watched; a/b (2) holds entries at depth 3, beyond MaxDepth; cache is excluded.
        Assert.Equal(2, h.Watcher.WatchCount);

        Directory.CreateDirectory(tree.PathOf("cache/new"));
        Directory.CreateDirectory(tree.PathOf("a/new"));
        await h.WaitForChangeAsync(tree.BytesOf("a/new"), ChangeHint.Created);
        await h.SyncAsync();
        Assert.Equal(2, h.Watcher.WatchCount);
        Assert.DoesNotContain(h.Received.OfType<SubtreeRescan>(), r => PathBytes.IsUnder(r.Root, tree.BytesOf("a")));
    }

    [Fact]
    public async Task Root_moved_away_requests_a_rescan_and_is_watched_again_when_it_reappears()
    {
        using var parent = new WatchedDirectory();
        Directory.CreateDirectory(parent.PathOf("watched/sub"));
        var root = parent.BytesOf("watched");
        await using var h = new WatcherHarness(parent, new InotifyWatcherOptions { WatchRetryInterval = TimeSpan.FromMilliseconds(100) });
        Assert.Equal(2, h.Watcher.AddRoot(root, _ => true));
        h.Start();

        Directory.Move(parent.PathOf("watched"), parent.PathOf("elsewhere"));
        var moved = await h.WaitForAsync<SubtreeRescan>(r => PathComparer.Instance.Equals(r.Root, root));
        Assert.Equal(RescanReason.DirectoryMoved, moved.Reason);
        Assert.Equal(0, h.Watcher.WatchCount);

        Directory.CreateDirectory(parent.PathOf("watched"));
        await h.WaitForAsync<SubtreeRescan>(r => PathComparer.Instance.Equals(r.Root, root) && r.Reason == RescanReason.NewDirectory);
        File.WriteAllText(parent.PathOf("watched/back.txt"), "x");
        await h.WaitForChangeAsync(parent.BytesOf("watched/back.txt"), ChangeHint.Written);
    }
}

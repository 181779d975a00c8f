using Fim.Agent.Realtime;
using Fim.Core.Model;

namespace Fim.Agent.Tests.Realtime;

[Collection(InotifyCollection.Name)]
public sealed class InotifyWatcherChangeTests
{
    [Fact]
    public async Task Write_and_close_is_reported_once_as_written()
    {
        using var tree = new WatchedDirectory();
        File.WriteAllText(tree.PathOf("a.txt"), "v1");
        await using var h = await WatcherHarness.StartAsync(tree);

        File.WriteAllText(tree.PathOf("a.txt"), "v2");

        var change = await h.WaitForChangeAsync(tree.BytesOf("a.txt"), ChangeHint.Written);
        Assert.False(change.IsDirectory);
        await h.SyncAsync();
        Assert.Single(h.ChangesFor(tree.BytesOf("a.txt")));
    }

    [Fact]
    public async Task New_file_is_reported_as_created_and_written()
    {
        using var tree = new WatchedDirectory();
        await using var h = await WatcherHarness.StartAsync(tree);

        File.WriteAllText(tree.PathOf("new.txt"), "x");

        await h.WaitForChangeAsync(tree.BytesOf("new.txt"), ChangeHint.Written);
        await h.SyncAsync();
        var hints = h.ChangesFor(tree.BytesOf("new.txt")).Aggregate(ChangeHint.None, (acc, c) => acc | c.Hint);
        Assert.Equal(ChangeHint.Created | ChangeHint.Written, hints);
    }

    [Fact]
    public async Task Burst_of_writes_to_a_file_held_open_yields_one_notification_at_close()
    {
        using var tree = new WatchedDirectory();
        var path = tree.PathOf("burst.log");
        File.WriteAllText(path, "");
        // Windows wider than the burst can take on a loaded machine, so only the close can report it.
        await using var h = await WatcherHarness.StartAsync(tree, new InotifyWatcherOptions
        {
            QuietPeriod = TimeSpan.FromSeconds(5),
            MaxDelay = TimeSpan.FromSeconds(10),
        });

        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0))
        {
            for (var i = 0; i < 100; i++)
            {
                stream.Write("line\n"u8);
            }
        }

        await h.WaitForChangeAsync(tree.BytesOf("burst.log"), ChangeHint.Written);
        await h.SyncAsync();
        var changes = h.ChangesFor(tree.BytesOf("burst.log"));
        Assert.Single(changes);
        Assert.Equal(ChangeHint.Written, changes[0].Hint);
    }

    [Fact]
    public async Task Writer_holding_the_file_open_is_reported_per_max_delay_window_and_after_quiet_period()
    {
        using var tree = new WatchedDirectory();
        var path = tree.PathOf("app.log");
        File.WriteAllText(path, "");
        var options = new InotifyWatcherOptions
        {
            QuietPeriod = TimeSpan.FromMilliseconds(300),
            MaxDelay = TimeSpan.FromMilliseconds(600),
        };
        await using var h = await WatcherHarness.StartAsync(tree, options);
        var target = tree.BytesOf("app.log");

        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        var writing = System.Diagnostics.Stopwatch.StartNew();
        var writes = 0;
        // Writing every 10 ms for a while is the scenario itself (a log being appended), not a wait for a result.
        while (writing.Elapsed < TimeSpan.FromSeconds(2) || writes < 50)
        {
            stream.Write("tick\n"u8);
            writes++;
            await Task.Delay(10);
        }
        // Continuous writes never go quiet, so only MaxDelay reports them: about one per 600 ms window (counted
        // against the time the writing really took, which a busy machine stretches).
        var whileWriting = h.ChangesFor(target).Count;
        Assert.InRange(whileWriting, 1, (int)(writing.Elapsed / options.MaxDelay) + 2);

        // The writer pauses (file still open): the quiet period reports the last writes without a close.
        stream.Write("last\n"u8);
        await h.WaitUntilAsync(_ => h.ChangesFor(target).Count > whileWriting, "a Written after the quiet period");
        Assert.All(h.ChangesFor(target), c => Assert.Equal(ChangeHint.Written, c.Hint));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Chmod_is_reported_as_attributes()
    {
        using var tree = new WatchedDirectory();
        File.WriteAllText(tree.PathOf("m.txt"), "x");
        await using var h = await WatcherHarness.StartAsync(tree);

        File.SetUnixFileMode(tree.PathOf("m.txt"), UnixFileMode.UserRead);

        var change = await h.WaitForChangeAsync(tree.BytesOf("m.txt"), ChangeHint.Attributes);
        Assert.Equal(ChangeHint.Attributes, change.Hint);
    }

    [Fact]
    public async Task Delete_is_reported()
    {
        using var tree = new WatchedDirectory();
        File.WriteAllText(tree.PathOf("gone.txt"), "x");
        await using var h = await WatcherHarness.StartAsync(tree);

        File.Delete(tree.PathOf("gone.txt"));

        await h.WaitForChangeAsync(tree.BytesOf("gone.txt"), ChangeHint.Deleted);
    }

    [Fact]
    public async Task Replacing_a_file_by_rename_is_seen_every_time_and_the_new_file_stays_watched()
    {
        using var tree = new WatchedDirectory();
        var target = tree.PathOf("config.yaml");
        File.WriteAllText(target, "v0");
        await using var h = await WatcherHarness.StartAsync(tree);
        var targetBytes = tree.BytesOf("config.yaml");

        for (var i = 1; i <= 2; i++)
        {
            var tmp = tree.PathOf($".config.yaml.tmp{i}");
            File.WriteAllText(tmp, $"v{i}");
            File.Move(tmp, target, overwrite: true);
            var expected = i;
            await h.WaitUntilAsync(
                _ => h.ChangesFor(targetBytes).Count(c => c.Hint.HasFlag(ChangeHint.MovedIn)) == expected,
                $"replacement {i} seen as MovedIn");
            await h.WaitForChangeAsync(PathBytes.FromString(tmp), ChangeHint.MovedOut);
        }

        File.AppendAllText(target, "edited in place");
        await h.WaitForChangeAsync(targetBytes, ChangeHint.Written);
    }

    [Fact]
    public async Task Non_utf8_names_are_watched_and_reported_byte_exact()
    {
        using var tree = new WatchedDirectory();
        var dir = PathBytes.Join(tree.Root, [(byte)'d', 0xFF, 0xFE]);
        NativeFs.MakeDirectory(dir);
        await using var h = await WatcherHarness.StartAsync(tree);
        Assert.Equal(2, h.Watcher.WatchCount);

        var file = PathBytes.Join(dir, [(byte)'f', 0xE9, (byte)'.', (byte)'t']);
        NativeFs.WriteFile(file, "x"u8.ToArray());

        var change = await h.WaitForChangeAsync(file, ChangeHint.Written);
        Assert.Equal(file, change.Path);
        Assert.Contains("\\xff\\xfe", PathBytes.ToDisplay(change.Path));
    }
}

using Fim.Agent.Realtime;
using Fim.Core.Model;

namespace Fim.Agent.Tests.Realtime;

public sealed class NotificationBatchTests
{
    [Fact]
    public void Changes_to_one_path_are_merged_in_first_seen_order()
    {
        var batch = new NotificationBatch();
        var a = PathBytes.FromString("/r/a");
        var b = PathBytes.FromString("/r/b");

        batch.Change(a, ChangeHint.Created, false);
        batch.Change(b, ChangeHint.Attributes, false);
        batch.Change(PathBytes.FromString("/r/a"), ChangeHint.Written, false);
        batch.Rescan(PathBytes.FromString("/r/d"), RescanReason.NewDirectory);
        batch.Rescan(PathBytes.FromString("/r/d"), RescanReason.NewDirectory);

        var drained = batch.Drain();
        Assert.Equal(3, drained.Count);
        var first = Assert.IsType<PathChanged>(drained[0]);
        Assert.Equal(ChangeHint.Created | ChangeHint.Written, first.Hint);
        Assert.Equal(b, Assert.IsType<PathChanged>(drained[1]).Path);
        Assert.Equal(RescanReason.NewDirectory, Assert.IsType<SubtreeRescan>(drained[2]).Reason);
        Assert.Empty(batch.Drain());
    }
}

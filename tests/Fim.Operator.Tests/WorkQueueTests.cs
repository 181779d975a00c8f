using Fim.Operator.Runtime;
using Fim.Testing;

namespace Fim.Operator.Tests;

public sealed class WorkQueueTests
{
    [Fact]
    public async Task A_key_added_many_times_is_handed_out_once()
    {
        using var q = new WorkQueue(TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(1));
        for (var i = 0; i < 5; i++)
        {
            q.Add("a");
        }

        q.Add("b");
        Assert.Equal(2, q.Depth);
        Assert.Equal("a", await q.TakeAsync(CancellationToken.None));
        Assert.Equal("b", await q.TakeAsync(CancellationToken.None));
        // Nothing is left to hand out: waiting a little is the check, and a busy machine cannot make it fail.
        using var none = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => q.TakeAsync(none.Token));
    }

    [Fact]
    public async Task A_key_added_while_processing_waits_for_Done_and_is_never_processed_twice_at_once()
    {
        using var q = new WorkQueue(TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(1));
        q.Add("a");
        var key = await q.TakeAsync(CancellationToken.None);
        q.Add("a");
        // Held back until Done, however long one waits: a short wait is the check and cannot fail by slowness.
        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => q.TakeAsync(cts.Token));
        }

        q.Done(key);
        Assert.Equal("a", await Eventually.WithinAsync(q.TakeAsync(CancellationToken.None), "the key handed out again after Done"));
    }

    [Fact]
    public void Backoff_doubles_per_failure_up_to_the_cap_and_Forget_resets_it()
    {
        using var q = new WorkQueue(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50));
        Assert.Equal(TimeSpan.FromMilliseconds(10), q.AddRateLimited("k"));
        Assert.Equal(TimeSpan.FromMilliseconds(20), q.AddRateLimited("k"));
        Assert.Equal(TimeSpan.FromMilliseconds(40), q.AddRateLimited("k"));
        Assert.Equal(TimeSpan.FromMilliseconds(50), q.AddRateLimited("k"));
        q.Forget("k");
        Assert.Equal(0, q.Failures("k"));
        Assert.Equal(TimeSpan.FromMilliseconds(10), q.AddRateLimited("k"));
    }
}

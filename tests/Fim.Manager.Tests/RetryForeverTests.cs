using Fim.Nats;
using Fim.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fim.Manager.Tests;

/// <summary>The shared Polly pipelines every process's long-running NATS loops go through.</summary>
public sealed class RetryForeverTests
{
    private static readonly RetryBackoff Quick = RetryBackoff.Constant(TimeSpan.FromMilliseconds(1));

    [Fact]
    public async Task A_loop_that_fails_or_ends_by_itself_is_started_again_until_cancelled()
    {
        var pipeline = RetryForever.Create("test loop", Quick, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var runs = 0;

        var running = pipeline.KeepRunningAsync(async token =>
        {
            var run = Interlocked.Increment(ref runs);
            if (run == 1)
            {
                throw new IOException("connection reset");
            }
            if (run == 2)
            {
                return; // a watch the server ended
            }
            await Task.Delay(Timeout.Infinite, token);
        }, stop.Token);

        await Eventually.TrueAsync(() => Volatile.Read(ref runs) == 3, "a third run after a failure and an end");
        Assert.False(running.IsCompleted);
        await stop.CancelAsync();
        await running;
        Assert.Equal(3, runs);
    }

    [Fact]
    public async Task An_operation_is_retried_until_it_succeeds_and_a_cancelled_one_reports_false()
    {
        var pipeline = RetryForever.Create("test operation", Quick, NullLogger.Instance);
        var attempts = 0;

        var done = await pipeline.UntilDoneAsync(_ =>
            ++attempts < 3 ? throw new InvalidOperationException("not yet") : ValueTask.CompletedTask, CancellationToken.None);

        Assert.True(done);
        Assert.Equal(3, attempts);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        Assert.False(await pipeline.UntilDoneAsync(_ => throw new InvalidOperationException("never"), cancelled.Token));
    }
}

using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Fim.Nats;

/// <summary>How a retried operation waits: <see cref="First"/>, growing exponentially (with jitter) up to <see cref="Max"/>.</summary>
public sealed record RetryBackoff(TimeSpan First, TimeSpan Max)
{
    /// <summary>The same wait every time.</summary>
    public static RetryBackoff Constant(TimeSpan delay) => new(delay, delay);
}

/// <summary>
/// Polly pipelines for the loops every FIM process runs against NATS (watch a bucket, consume, publish the outbox):
/// any failure but the caller's own cancellation is retried, forever, after a backoff, and logged (the first failure
/// and every tenth at Warning, the rest at Debug so a long outage does not flood the log).
/// </summary>
public static class RetryForever
{
    public static ResiliencePipeline Create(string operation, RetryBackoff backoff, ILogger logger, TimeProvider? time = null)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = time ?? TimeProvider.System };
        return builder.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is not null && !args.Context.CancellationToken.IsCancellationRequested),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = backoff.First == backoff.Max ? DelayBackoffType.Constant : DelayBackoffType.Exponential,
            UseJitter = backoff.First != backoff.Max,
            Delay = backoff.First,
            MaxDelay = backoff.Max,
            OnRetry = args =>
            {
                var level = args.AttemptNumber % 10 == 0 ? LogLevel.Warning : LogLevel.Debug;
                logger.Log(level, "{Operation} failed (attempt {Attempt}): {Error}; retrying in {Delay}",
                    operation, args.AttemptNumber + 1, Describe(args.Outcome.Exception), args.RetryDelay);
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    /// <summary>
    /// Runs an operation that should last until <paramref name="cancellationToken"/> (a watch, a subscription, a
    /// consumer) through <paramref name="pipeline"/>: a failure, or an end nobody asked for, is retried after the
    /// pipeline's backoff. Returns when cancelled.
    /// </summary>
    public static async Task KeepRunningAsync(this ResiliencePipeline pipeline, Func<CancellationToken, ValueTask> operation, CancellationToken cancellationToken)
    {
        try
        {
            await pipeline.ExecuteAsync(async token =>
            {
                await operation(token);
                token.ThrowIfCancellationRequested();
                throw new EndedException();
            }, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs <paramref name="operation"/> until it succeeds or <paramref name="cancellationToken"/> is cancelled (then false).</summary>
    public static async Task<bool> UntilDoneAsync(this ResiliencePipeline pipeline, Func<CancellationToken, ValueTask> operation, CancellationToken cancellationToken)
    {
        try
        {
            await pipeline.ExecuteAsync(operation, cancellationToken);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private sealed class EndedException() : Exception("ended by itself");

    private static string Describe(Exception? e) => e is null ? "no result" : NatsConnectionFactory.Describe(e);
}

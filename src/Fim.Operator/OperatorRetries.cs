using Fim.Contracts;
using Fim.Nats;
using Fim.Operator.Runtime;
using Microsoft.Extensions.Logging;
using Polly;

namespace Fim.Operator;

/// <summary>
/// Every retry of the operator in one place. The NATS connection is retried by the client; a reconcile that fails is
/// requeued with its own per-key backoff by the work queue (controller-runtime's model, not a loop); leader election
/// renews on a steady cadence. What is left are the watches below.
/// </summary>
public static class OperatorRetries
{
    /// <summary>The watch of the agents bucket (NATS away, the watch broke).</summary>
    public static readonly RetryBackoff BucketWatch = RetryBackoff.Constant(TimeSpan.FromSeconds(1));

    public static ResiliencePipeline WatchBucket(string bucket, ILogger logger) => RetryForever.Create($"watching KV {bucket}", BucketWatch, logger);

    /// <summary>A Kubernetes list or watch that failed (API server away, a broken stream) is started again.</summary>
    public static ResiliencePipeline Informer(string name, InformerOptions options, ILogger logger) =>
        RetryForever.Create($"informer {name}", new RetryBackoff(options.RetryDelay, options.MaxRetryDelay < options.RetryDelay ? options.RetryDelay : options.MaxRetryDelay), logger);
}

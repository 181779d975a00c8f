using Fim.Contracts;

namespace Fim.Manager.Sinks;

public enum SinkResult
{
    Delivered,
    /// <summary>Not for this sink (below its minimum level); acked.</summary>
    Skipped,
    /// <summary>Failed this time; retried with backoff until the sink's max deliveries.</summary>
    Retry,
    /// <summary>Will not be delivered, whatever the number of attempts (a webhook redirecting elsewhere); dead-lettered at once.</summary>
    Refused,
}

/// <summary>Somewhere alerts go. Each sink reads FIM_ALERTS on its own durable consumer, so a slow one slows only itself.</summary>
public interface IAlertSink
{
    string Name { get; }
    bool Enabled { get; }
    string Consumer { get; }
    TimeSpan AckWait { get; }
    int MaxDeliver { get; }
    TimeSpan RetryDelay(ulong delivered);
    Task<SinkResult> DeliverAsync(Alert alert, ReadOnlyMemory<byte> json, CancellationToken cancellationToken);
}

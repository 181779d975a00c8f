using Fim.Agent.Telemetry;
using Microsoft.Extensions.Options;

namespace Fim.Agent.Connected;

/// <summary>
/// The agent-wide view of the outboxes in the policy stores: the cap, the overflow state, and the signal that wakes
/// the publisher when events arrive.
/// </summary>
public sealed class Outbox(StateStores stores, IOptions<AgentOptions> options)
{
    private readonly SemaphoreSlim _signal = new(0, 1);
    private long _overflows;
    private volatile bool _overflowing;

    public int MaxEvents { get; } = options.Value.OutboxMaxEvents;

    public int Depth => stores.PendingEventCount;

    public long Bytes => stores.PendingEventBytes;

    /// <summary>True from the first refused batch until a batch is accepted again.</summary>
    public bool Overflowing => _overflowing;

    public long Overflows => Interlocked.Read(ref _overflows);

    public bool HasRoom => Depth < MaxEvents;

    /// <summary>A batch with changes was refused because the outbox is full: counted, and the state is reported.</summary>
    public void CountRefused()
    {
        Interlocked.Increment(ref _overflows);
        AgentMetrics.OutboxOverflows.Inc();
        _overflowing = true;
    }

    public void Accepted()
    {
        _overflowing = false;
        Signal();
    }

    /// <summary>Wakes the publisher.</summary>
    public void Signal()
    {
        AgentMetrics.OutboxDepth.Set(Depth);
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    /// <summary>Waits until <see cref="Signal"/> or the timeout.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}

namespace Fim.Manager.Pipeline;

/// <summary>
/// The events taken but not yet settled: at most <c>size</c> at once (the publish window), and what shutdown waits for
/// (drain) or walks away from (abandon: nothing more is acked, the server redelivers after AckWait).
/// </summary>
public sealed class InFlightWindow(int size) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(size, size);
    private int _count;
    private volatile bool _abandoned;

    public int Count => Volatile.Read(ref _count);

    public bool Abandoned => _abandoned;

    public Task EnterAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        var wait = _slots.WaitAsync(cancellationToken);
        return wait.IsCompletedSuccessfully ? Task.CompletedTask : EnterSlowAsync(wait);
    }

    private async Task EnterSlowAsync(Task wait)
    {
        try
        {
            await wait;
        }
        catch
        {
            Interlocked.Decrement(ref _count);
            throw;
        }
    }

    public void Leave()
    {
        Interlocked.Decrement(ref _count);
        _slots.Release();
    }

    public void Abandon() => _abandoned = true;

    /// <summary>True when everything in flight was settled within <paramref name="timeout"/>.</summary>
    public async Task<bool> DrainAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Count > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(10);
        }
        return true;
    }

    public void Dispose() => _slots.Dispose();
}

using System.Collections.Concurrent;

namespace Fim.Core.Scanning;

/// <summary>
/// A LIFO work pool for a fixed set of worker threads that ends by itself when every item taken has been
/// completed and nothing is left. LIFO keeps the walk depth-first, which bounds the number of pending directories.
/// </summary>
internal sealed class WorkQueue<T>(int workers)
{
    private readonly ConcurrentStack<T> _items = new();
    private readonly SemaphoreSlim _available = new(0);
    private int _pending;
    private volatile bool _done;

    public void Add(T item)
    {
        Interlocked.Increment(ref _pending);
        _items.Push(item);
        _available.Release();
    }

    /// <summary>Blocks until an item is available; false once all work is finished or the queue was stopped.</summary>
    public bool TryTake(out T item, CancellationToken ct)
    {
        while (true)
        {
            _available.Wait(ct);
            if (_done)
            {
                item = default!;
                return false;
            }
            if (_items.TryPop(out item!))
            {
                return true;
            }
        }
    }

    /// <summary>Marks one taken item finished; the last one wakes every worker to exit.</summary>
    public void Complete()
    {
        if (Interlocked.Decrement(ref _pending) == 0)
        {
            Stop();
        }
    }

    /// <summary>Ends the work early, or when there was nothing to do.</summary>
    public void Stop()
    {
        _done = true;
        _available.Release(workers);
    }
}

using System.Threading.Channels;

namespace Fim.Operator.Runtime;

/// <summary>
/// A de-duplicating, rate-limited work queue of keys (client-go's semantics): a key waiting in the queue is there
/// once; a key being processed is never handed to a second worker, and if it is added meanwhile it is queued again
/// when the worker calls Done; failures back off exponentially per key until Forget.
/// </summary>
public sealed class WorkQueue(TimeSpan baseDelay, TimeSpan maxDelay) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _dirty = [];
    private readonly HashSet<string> _processing = [];
    private readonly Dictionary<string, int> _failures = [];
    private readonly Dictionary<string, long> _addedAt = [];
    private readonly Channel<string> _ready = Channel.CreateUnbounded<string>();
    private readonly CancellationTokenSource _shutdown = new();

    /// <summary>Keys waiting (not counting those being processed).</summary>
    public int Depth
    {
        get
        {
            lock (_lock)
            {
                return _dirty.Count(k => !_processing.Contains(k));
            }
        }
    }

    /// <summary>Called with the time a key waited in the queue each time a worker takes it (queue latency metric).</summary>
    public Action<TimeSpan>? Waited { get; set; }

    public void Add(string key)
    {
        lock (_lock)
        {
            if (!_dirty.Add(key))
            {
                return; // already waiting
            }

            _addedAt[key] = System.Diagnostics.Stopwatch.GetTimestamp();

            if (_processing.Contains(key))
            {
                return; // queued again by Done
            }
        }

        _ready.Writer.TryWrite(key);
    }

    public void AddAfter(string key, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(key);
            return;
        }

        _ = Task.Delay(delay, _shutdown.Token).ContinueWith(t =>
        {
            if (!t.IsCanceled)
            {
                Add(key);
            }
        }, TaskScheduler.Default);
    }

    /// <summary>Adds the key after its next backoff delay: base * 2^failures, capped.</summary>
    public TimeSpan AddRateLimited(string key)
    {
        int n;
        lock (_lock)
        {
            n = _failures.TryGetValue(key, out var f) ? f : 0;
            _failures[key] = n + 1;
        }

        var delay = TimeSpan.FromTicks((long)Math.Min(maxDelay.Ticks, baseDelay.Ticks * Math.Pow(2, Math.Min(n, 30))));
        AddAfter(key, delay);
        return delay;
    }

    public void Forget(string key)
    {
        lock (_lock)
        {
            _failures.Remove(key);
        }
    }

    public int Failures(string key)
    {
        lock (_lock)
        {
            return _failures.TryGetValue(key, out var f) ? f : 0;
        }
    }

    /// <summary>The next key to process; the caller must call Done(key) afterwards.</summary>
    public async Task<string> TakeAsync(CancellationToken ct)
    {
        while (true)
        {
            var key = await _ready.Reader.ReadAsync(ct);
            lock (_lock)
            {
                if (_processing.Contains(key) || !_dirty.Contains(key))
                {
                    continue; // stale duplicate
                }

                _dirty.Remove(key);
                _processing.Add(key);
                if (_addedAt.Remove(key, out var added))
                {
                    Waited?.Invoke(System.Diagnostics.Stopwatch.GetElapsedTime(added));
                }

                return key;
            }
        }
    }

    public void Done(string key)
    {
        bool again;
        lock (_lock)
        {
            _processing.Remove(key);
            again = _dirty.Contains(key);
        }

        if (again)
        {
            _ready.Writer.TryWrite(key);
        }
    }

    public void Dispose()
    {
        _shutdown.Cancel();
        _shutdown.Dispose();
        _ready.Writer.TryComplete();
    }
}

using Fim.Core.Model;

namespace Fim.Agent.Realtime;

/// <summary>
/// Files written without a close yet (IN_MODIFY only): each is reported once it has been quiet for the quiet period,
/// or once the max delay has passed since its first unreported write, so a busy log yields one notification per
/// window. Times are Stopwatch ticks supplied by the caller.
/// </summary>
internal sealed class PendingWrites
{
    private readonly long _quietTicks;
    private readonly long _maxDelayTicks;
    private readonly Dictionary<byte[], Window> _windows = new(PathComparer.Instance);

    public PendingWrites(TimeSpan quietPeriod, TimeSpan maxDelay, long ticksPerSecond)
    {
        _quietTicks = ToTicks(quietPeriod, ticksPerSecond);
        _maxDelayTicks = ToTicks(maxDelay, ticksPerSecond);
    }

    public int Count => _windows.Count;

    public void Modified(byte[] path, long now)
    {
        if (_windows.TryGetValue(path, out var window))
        {
            _windows[path] = window with { Last = now };
        }
        else
        {
            _windows.Add(path, new Window(now, now));
        }
    }

    /// <summary>Forgets a path whose change is reported by other means (closed, deleted, moved away).</summary>
    public void Remove(byte[] path) => _windows.Remove(path);

    public void RemoveUnder(ReadOnlySpan<byte> directory)
    {
        List<byte[]>? gone = null;
        foreach (var path in _windows.Keys)
        {
            if (PathBytes.IsUnder(path, directory))
            {
                (gone ??= []).Add(path);
            }
        }
        gone?.ForEach(p => _windows.Remove(p));
    }

    /// <summary>Removes and returns the paths whose window has closed at <paramref name="now"/>.</summary>
    public List<byte[]> TakeDue(long now)
    {
        var due = new List<byte[]>();
        foreach (var (path, window) in _windows)
        {
            if (DueAt(window) <= now)
            {
                due.Add(path);
            }
        }
        due.ForEach(p => _windows.Remove(p));
        return due;
    }

    /// <summary>The earliest time a window closes, or null when nothing is pending.</summary>
    public long? NextDue()
    {
        long? next = null;
        foreach (var window in _windows.Values)
        {
            var at = DueAt(window);
            if (next is null || at < next)
            {
                next = at;
            }
        }
        return next;
    }

    private long DueAt(Window window) => Math.Min(window.Last + _quietTicks, window.First + _maxDelayTicks);

    private static long ToTicks(TimeSpan span, long ticksPerSecond) => (long)(span.TotalSeconds * ticksPerSecond);

    private readonly record struct Window(long First, long Last);
}

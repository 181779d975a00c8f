namespace Fim.Agent.Output;

/// <summary>
/// The policy's eventsPerSecond cap on printed alerts: past the cap, alerts are counted and summarised once
/// a second instead of flooding the output; the baseline still records every change.
/// </summary>
public sealed class AlertRateLimiter(int perSecond, TimeProvider time)
{
    private long _windowStart = long.MinValue;
    private int _inWindow;

    public int Suppressed { get; private set; }

    /// <summary>True when this alert may be printed now.</summary>
    public bool TryAcquire()
    {
        if (perSecond <= 0)
        {
            return true;
        }
        var now = time.GetTimestamp();
        if (_windowStart == long.MinValue || time.GetElapsedTime(_windowStart, now) >= TimeSpan.FromSeconds(1))
        {
            _windowStart = now;
            _inWindow = 0;
        }
        if (_inWindow < perSecond)
        {
            _inWindow++;
            return true;
        }
        Suppressed++;
        return false;
    }

    /// <summary>Takes the count suppressed since the last call.</summary>
    public int TakeSuppressed()
    {
        var n = Suppressed;
        Suppressed = 0;
        return n;
    }
}

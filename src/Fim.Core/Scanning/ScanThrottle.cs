namespace Fim.Core.Scanning;

/// <summary>
/// Token buckets for bytes/s and files/s shared by all scan threads, so a scan never takes more of the host
/// than the policy allows. Threads sleep outside the lock.
/// </summary>
public sealed class ScanThrottle(long? bytesPerSecond, int? filesPerSecond, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Bucket? _bytes = bytesPerSecond is > 0 ? new Bucket(bytesPerSecond.Value) : null;
    private readonly Bucket? _files = filesPerSecond is > 0 ? new Bucket(filesPerSecond.Value) : null;

    public bool IsUnlimited => _bytes is null && _files is null;

    public void AcquireBytes(long count) => Sleep(ReserveBytes(count));

    public void AcquireFile() => Sleep(ReserveFile());

    /// <summary>Takes the tokens and returns how long the caller must wait before using them.</summary>
    internal TimeSpan ReserveBytes(long count) => _bytes?.Take(count, _time.GetTimestamp(), _time.TimestampFrequency) ?? TimeSpan.Zero;

    internal TimeSpan ReserveFile() => _files?.Take(1, _time.GetTimestamp(), _time.TimestampFrequency) ?? TimeSpan.Zero;

    private static void Sleep(TimeSpan wait)
    {
        if (wait > TimeSpan.Zero)
        {
            Thread.Sleep(wait);
        }
    }

    private sealed class Bucket(long ratePerSecond)
    {
        private readonly Lock _lock = new();
        private double _debt;
        private long _last = -1;

        /// <summary>Takes <paramref name="count"/> tokens, going into debt; returns how long to wait to pay it off.</summary>
        public TimeSpan Take(long count, long now, long frequency)
        {
            lock (_lock)
            {
                if (_last >= 0)
                {
                    var elapsed = (double)(now - _last) / frequency;
                    // At most one second of credit: a throttled scan may burst briefly, never for long.
                    _debt = Math.Max(_debt - elapsed * ratePerSecond, -ratePerSecond);
                }
                _last = now;
                _debt += count;
                return _debt <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(_debt / ratePerSecond);
            }
        }
    }
}

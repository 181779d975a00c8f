using Fim.Core.Scanning;
using Microsoft.Extensions.Time.Testing;

namespace Fim.Core.Tests.Scanning;

public sealed class ScanThrottleTests
{
    [Fact]
    public void Bytes_beyond_the_rate_cost_the_time_needed_to_pay_them_off()
    {
        var time = new FakeTimeProvider();
        var throttle = new ScanThrottle(bytesPerSecond: 1_000_000, filesPerSecond: null, time);

        Assert.Equal(TimeSpan.FromSeconds(1), throttle.ReserveBytes(1_000_000));
        Assert.Equal(TimeSpan.FromSeconds(3), throttle.ReserveBytes(2_000_000));
        time.Advance(TimeSpan.FromSeconds(3)); // the caller waited as told: the debt is paid, no credit is left
        Assert.Equal(TimeSpan.FromSeconds(1.5), throttle.ReserveBytes(1_500_000));
    }

    [Fact]
    public void Idle_time_earns_at_most_one_second_of_burst()
    {
        var time = new FakeTimeProvider();
        var throttle = new ScanThrottle(null, filesPerSecond: 100, time);
        throttle.ReserveFile();
        time.Advance(TimeSpan.FromMinutes(10));

        var waits = Enumerable.Range(0, 250).Select(_ => throttle.ReserveFile()).ToList();

        Assert.Equal(100, waits.Count(w => w == TimeSpan.Zero)); // ten idle minutes still buy only one second (100 files)
        Assert.Equal(TimeSpan.FromSeconds(1.5), waits[^1]);
    }

    [Fact]
    public void No_limits_means_no_waiting()
    {
        var throttle = new ScanThrottle(null, null);
        Assert.True(throttle.IsUnlimited);
        Assert.Equal(TimeSpan.Zero, throttle.ReserveBytes(long.MaxValue / 2));
    }
}

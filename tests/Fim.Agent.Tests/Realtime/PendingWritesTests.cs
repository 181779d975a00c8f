using Fim.Agent.Realtime;
using Fim.Core.Model;

namespace Fim.Agent.Tests.Realtime;

public sealed class PendingWritesTests
{
    private const long Second = 1000;
    private static readonly byte[] Log = PathBytes.FromString("/var/log/app.log");

    private static PendingWrites Create() => new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), ticksPerSecond: Second);

    [Fact]
    public void Single_write_is_due_after_the_quiet_period()
    {
        var pending = Create();
        pending.Modified(Log, 0);

        Assert.Empty(pending.TakeDue(999));
        Assert.Equal(1000, pending.NextDue());
        Assert.Single(pending.TakeDue(1000));
        Assert.Equal(0, pending.Count);
        Assert.Null(pending.NextDue());
    }

    [Fact]
    public void Continuous_writes_are_due_at_the_max_delay_then_start_a_new_window()
    {
        var pending = Create();
        var reported = 0;
        for (long t = 0; t <= 12 * Second; t += 100)
        {
            reported += pending.TakeDue(t).Count;
            pending.Modified(Log, t);
        }
        // Writes every 100 ms never go quiet: windows close at 5 s and 10.1 s.
        Assert.Equal(2, reported);
    }

    [Fact]
    public void Removed_paths_are_not_reported()
    {
        var pending = Create();
        pending.Modified(Log, 0);
        pending.Modified(PathBytes.FromString("/var/log/sub/x"), 0);
        pending.Modified(PathBytes.FromString("/var/logs"), 0);

        pending.Remove(Log);
        pending.RemoveUnder(PathBytes.FromString("/var/log/sub"));

        var due = pending.TakeDue(10 * Second);
        Assert.Equal(["/var/logs"], due.Select(p => PathBytes.ToDisplay(p)));
    }
}

using System.Diagnostics;
using Fim.Hostile.Tests.Support;
using Fim.Testing;

namespace Fim.Hostile.Tests;

/// <summary>
/// Cases 3 and 6: SIGTERM did not stop a scan, one crashed with an unhandled InvalidOperationException from
/// System.CommandLine's termination handler, and an interrupted scan exited 0 with no message and no baseline, so
/// cron read "no change". A signal now stops any scan within a second: exit 130 (SIGINT) or 143 (SIGTERM) and a
/// message saying nothing was recorded.
/// </summary>
public sealed class InterruptTests : IDisposable
{
    /// <summary>"Within a second" on an idle machine; the margin is for two saturated cores.</summary>
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(5);
    private readonly HostileAgent _agent = new();

    public void Dispose() => _agent.Dispose();

    /// <summary>A scan that takes minutes: a 256 MiB sparse file read at 1 MiB/s (the policy's own throttle).</summary>
    private string SlowPolicy()
    {
        using (var big = File.Create(Path.Combine(_agent.Files, "big.img")))
        {
            big.SetLength(256L << 20);
        }
        File.WriteAllText(Path.Combine(_agent.Files, "small"), "a");
        var policy = Path.Combine(_agent.Root, "slow.yaml");
        File.WriteAllText(policy, $"name: slow\npaths:\n  - path: {_agent.Files}\nthrottle:\n  bytesPerSecond: 1Mi\n");
        return policy;
    }

    /// <summary>Waits until the agent holds its state directory (it is past start-up and scanning), then signals it.</summary>
    private static async Task<(int Exit, TimeSpan Took)> SignalDuringScan(ChildProcess agent, string stateDir, Action<ChildProcess> signal)
    {
        await Eventually.TrueAsync(() => File.Exists(Path.Combine(stateDir, "lock")), "the agent to open its state directory", TimeSpan.FromMinutes(1));
        var clock = Stopwatch.StartNew();
        signal(agent);
        var exit = await agent.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (exit, clock.Elapsed);
    }

    [Fact]
    public async Task Sigterm_stops_a_first_scan_with_143_and_says_no_baseline_was_recorded()
    {
        var policy = SlowPolicy();
        using var agent = _agent.Start(["scan", "--json", "--policy", policy]);

        var (exit, took) = await SignalDuringScan(agent, _agent.StateDir, a => a.Terminate());

        Assert.True(exit == 143, $"exit {exit}\n{agent.Output}");
        Assert.True(took < StopLimit, $"took {took.TotalSeconds:0.0} s to stop\n{agent.Output}");
        Assert.Contains("interrupted by SIGTERM", agent.Stderr);
        Assert.Contains("no baseline was recorded", agent.Stderr);
        Assert.DoesNotContain("Unhandled exception", agent.Stderr);
        Assert.False(File.Exists(_agent.Snapshot));
    }

    [Fact]
    public async Task Sigint_stops_a_scan_with_130()
    {
        var policy = SlowPolicy();
        using var agent = _agent.Start(["scan", "--json", "--policy", policy]);

        var (exit, took) = await SignalDuringScan(agent, _agent.StateDir, a => a.Interrupt());

        Assert.True(exit == 130, $"exit {exit}\n{agent.Output}");
        Assert.True(took < StopLimit, $"took {took.TotalSeconds:0.0} s to stop\n{agent.Output}");
        Assert.Contains("interrupted by SIGINT", agent.Stderr);
    }

    [Fact]
    public async Task An_interrupted_check_is_not_read_as_no_change_and_the_next_scan_still_reports_the_change()
    {
        var policy = SlowPolicy();
        File.Move(Path.Combine(_agent.Files, "big.img"), Path.Combine(_agent.Root, "big.img"));
        Assert.Equal(0, _agent.Scan(["--policy", policy]).ExitCode);
        File.WriteAllText(Path.Combine(_agent.Files, "small"), "changed");
        File.Move(Path.Combine(_agent.Root, "big.img"), Path.Combine(_agent.Files, "big.img"));
        File.Delete(Path.Combine(_agent.StateDir, "lock"));
        using var agent = _agent.Start(["scan", "--json", "--policy", policy]);

        var (exit, _) = await SignalDuringScan(agent, _agent.StateDir, a => a.Terminate());

        Assert.True(exit == 143, $"exit {exit}\n{agent.Output}");
        Assert.Contains("no change was reported and the baseline was not updated", agent.Stderr);
        Assert.Empty(agent.StdoutLines);
        File.Delete(Path.Combine(_agent.Files, "big.img"));
        var next = _agent.Scan(["--policy", policy]);
        Assert.True((next.ExitCode & 4) != 0, $"the change made before the interrupted scan must still be reported\n{next}");
        Assert.Contains("/small", next.Stdout);
    }

    [Fact]
    public void Sigterm_stops_watch_with_143_and_a_message_not_an_exception()
    {
        File.WriteAllText(Path.Combine(_agent.Files, "f"), "a");
        using var agent = _agent.Start(["watch", "--json", _agent.Files]);
        agent.AwaitLog("baseline recorded");

        agent.Terminate();
        var exit = agent.WaitForExit(TimeSpan.FromSeconds(30));

        Assert.True(exit == 143, $"exit {exit}\n{agent.Output}");
        Assert.Contains("stopped by SIGTERM", agent.Stderr);
        Assert.DoesNotContain("Exception", agent.Stderr);
    }
}

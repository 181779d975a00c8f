using Fim.Agent.WhoData;

namespace Fim.Agent.Tests.WhoData;

/// <summary>Pid reuse never names the wrong process: a pid alone names a process only when exactly one candidate is left.</summary>
public sealed class ProcessTableTests
{
    private const ulong Tick = ProcessTable.NsPerTick;

    private static ProcessRecord Exec(int pid, ulong startTicks, uint uid, string exe) =>
        new(ProcessRecordKind.Exec, pid, 1, uid, uid, uid, ProcessIdentity.Unset, ProcessIdentity.Unset, startTicks * Tick, 0, 0, "sh", exe, "sh\0-c\0x\0"u8.ToArray());

    private static ProcessRecord Exit(int pid, ulong startTicks) =>
        new(ProcessRecordKind.Exit, pid, 0, 0, 0, 0, 0, 0, startTicks * Tick, 0, 0, null, null, null);

    [Fact]
    public void An_exited_writer_is_found_by_its_pid_when_it_is_the_only_one()
    {
        var table = new ProcessTable();
        table.BeginDrain();
        table.Apply(Exec(100, 5, 1001, "/bin/true"));
        table.Apply(Exit(100, 5));

        var p = table.FindExited(100, out var reason);

        Assert.Null(reason);
        Assert.Equal(1001u, p!.Uid);
        Assert.Equal(5ul, p.Start);
    }

    [Fact]
    public void Two_exited_processes_with_the_same_pid_make_the_writer_unknown()
    {
        var table = new ProcessTable();
        table.BeginDrain();
        table.Apply(Exec(100, 5, 1001, "/bin/true"));
        table.Apply(Exit(100, 5));
        table.Apply(Exec(100, 9, 0, "/bin/false"));
        table.Apply(Exit(100, 9));

        Assert.Null(table.FindExited(100, out var reason));
        Assert.Equal("pid-reused", reason);
    }

    [Fact]
    public void A_live_process_is_found_by_pid_and_start_time_not_by_pid_alone()
    {
        var table = new ProcessTable();
        table.BeginDrain();
        table.Apply(Exec(100, 5, 1001, "/bin/true"));
        table.Apply(Exit(100, 5));
        table.Apply(Exec(100, 9, 0, "/bin/false"));

        Assert.Equal(0u, table.Find(100, 9)!.Uid);
        Assert.Equal(1001u, table.Find(100, 5)!.Uid);
        Assert.Null(table.Find(100, 7));
    }

    [Fact]
    public void Exits_drained_before_an_empty_read_are_purged_and_later_ones_kept()
    {
        var table = new ProcessTable();
        table.BeginDrain();
        table.Apply(Exec(100, 5, 1001, "/bin/true"));
        table.Apply(Exit(100, 5));
        var emptyReadAfter = table.Drain;
        table.BeginDrain();
        table.Apply(Exec(100, 9, 0, "/bin/false"));
        table.Apply(Exit(100, 9));

        table.Purge(emptyReadAfter);

        Assert.Equal(0u, table.FindExited(100, out _)!.Uid);
    }

    [Fact]
    public void A_process_seen_only_exiting_is_unknown_not_guessed()
    {
        var table = new ProcessTable();
        table.BeginDrain();
        table.Apply(Exit(100, 3));

        Assert.Null(table.FindExited(100, out var reason));
        Assert.Equal("started-before-agent", reason);
        Assert.Null(table.FindExited(200, out reason));
        Assert.Equal("exited-unseen", reason);
    }

    [Fact]
    public void Lost_kernel_records_make_exited_writers_unknown_until_purged()
    {
        var table = new ProcessTable();
        table.BeginDrain();
        table.Apply(Exec(100, 5, 1001, "/bin/true"));
        table.Apply(Exit(100, 5));
        table.RecordsLost();

        Assert.Null(table.FindExited(100, out var reason));
        Assert.Equal("process-table-lost-records", reason);

        table.Purge(table.Drain);
        Assert.False(table.Lossy);
    }

    [Fact]
    public void A_forked_child_inherits_its_parents_image()
    {
        var table = new ProcessTable();
        table.BeginDrain();
        table.Apply(Exec(100, 5, 1001, "/bin/true"));
        table.Apply(new ProcessRecord(ProcessRecordKind.Fork, 101, 100, 1001, 1001, 1001, ProcessIdentity.Unset, ProcessIdentity.Unset, 6 * Tick, 5 * Tick, 0, "true", null, null));

        var child = table.Find(101, 6)!;
        Assert.Equal(table.Find(100, 5)!.Executable, child.Executable);
        Assert.Equal(100, child.Ppid);
        Assert.Equal("sh -c x", ActorResolver.CommandLine(child.Arguments));
    }
}

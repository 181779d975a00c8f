namespace Fim.Agent.WhoData;

/// <summary>
/// What is known of one process (pid + start time), from the kernel feed or from /proc. Mutable: an exec replaces the
/// image of the same process; an exit marks it.
/// </summary>
public sealed class ProcessIdentity(int pid, ulong start)
{
    public const uint Unset = uint.MaxValue;

    public int Pid { get; } = pid;
    /// <summary>Start time in clock ticks since boot, as /proc/&lt;pid&gt;/stat gives it (the kernel feed's ns divided down to it).</summary>
    public ulong Start { get; } = start;
    public int Ppid { get; set; }
    public uint Uid { get; set; } = Unset;
    public uint Euid { get; set; } = Unset;
    public uint Gid { get; set; } = Unset;
    public uint LoginUid { get; set; } = Unset;
    public uint SessionId { get; set; } = Unset;
    public string? Comm { get; set; }
    public string? Executable { get; set; }
    /// <summary>NUL-separated arguments as the process's memory holds them (maybe truncated).</summary>
    public byte[]? Arguments { get; set; }
    /// <summary>Id of its cgroup v2 as the kernel feed last saw it (at fork, exec or exit); 0 when not known.</summary>
    public ulong CgroupId { get; set; }
    /// <summary>Its /proc/&lt;pid&gt;/cgroup, when it was read live.</summary>
    public string? CgroupText { get; set; }
    /// <summary>False for a process only seen exiting (it started before the feed): it is known to exist, not who it was.</summary>
    public bool Known { get; set; }
    /// <summary>The drain of the feed in which its exit was read; -1 while alive.</summary>
    public long ExitDrain { get; set; } = -1;

    public bool Exited => ExitDrain >= 0;
}

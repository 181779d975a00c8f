using System.Text;
using Fim.Agent.Realtime;
using Fim.Contracts;

namespace Fim.Agent.WhoData;

/// <summary>
/// Names the writer of a fanotify event from its pid and pidfd. A writer alive when the event was read is read from
/// /proc (or found in the table by pid and start time) and confirmed alive afterwards, so /proc described it and
/// not a process that took its pid; a writer that had exited is the one exited process with its pid in the table.
/// Whatever is not certain is an actor with only <see cref="Actor.Unknown"/> (and the pid).
/// </summary>
public sealed class ActorResolver
{
    private readonly ProcessTable _table;
    private readonly Action? _drainFeed;
    private readonly bool _commandLine;
    private readonly string _procRoot;
    private readonly Dictionary<int, ProcessIdentity?> _batch = [];
    private readonly Dictionary<uint, string?> _users = [];
    private readonly Dictionary<uint, string?> _groups = [];
    private readonly int _maxProcEntries;
    private readonly CgroupPaths? _cgroups;

    /// <param name="drainFeed">Reads the process feed's pending records; null without a feed (then exited writers are unknown).</param>
    /// <param name="cgroups">Names the cgroup ids the feed records, so an exited writer's pod is known; null leaves them out.</param>
    public ActorResolver(ProcessTable table, Action? drainFeed, bool commandLine, string procRoot = "/proc", CgroupPaths? cgroups = null)
    {
        _cgroups = cgroups;
        _table = table;
        _drainFeed = drainFeed;
        _commandLine = commandLine;
        _procRoot = procRoot;
        _maxProcEntries = drainFeed is null ? 4096 : int.MaxValue;
    }

    /// <summary>Starts a new read of the event queue: a pid alive in one read is one process for all its events.</summary>
    public void BeginBatch()
    {
        _batch.Clear();
        // Without a feed nothing reports exits: the table only caches /proc reads, so keep it bounded.
        if (_table.Count > _maxProcEntries)
        {
            _table.Clear();
        }
    }

    /// <param name="pidfd">The event's pidfd: open when the writer was alive at read time, <see cref="FanotifyNative.NoPidfd"/> when it had been reaped.</param>
    public Actor Resolve(int pid, int pidfd)
    {
        if (pid <= 0)
        {
            return new Actor { Unknown = "outside-pid-namespace" };
        }
        if (pidfd >= 0)
        {
            if (!_batch.TryGetValue(pid, out var live))
            {
                live = ReadLive(pid, pidfd);
                _batch[pid] = live;
            }
            if (live is not null)
            {
                return ToActor(live);
            }
        }
        if (_drainFeed is null)
        {
            return new Actor { Pid = pid, Unknown = "exited-before-read" };
        }
        var exited = _table.FindExited(pid, out var reason);
        if (exited is null && reason == "exited-unseen")
        {
            // It died between the read and now: its exit is in the feed by now.
            _drainFeed();
            exited = _table.FindExited(pid, out reason);
        }
        return exited is null ? new Actor { Pid = pid, Unknown = reason } : ToActor(exited);
    }

    private ProcessIdentity? ReadLive(int pid, int pidfd)
    {
        if (!ProcReader.TryReadStat(_procRoot, pid, out var start, out var ppid, out var comm))
        {
            return null;
        }
        var p = _table.Find(pid, start);
        if (p is not { Known: true })
        {
            p = ProcReader.Read(_procRoot, pid, start, ppid, comm);
        }
        // Read, then confirm: if the writer is still alive, the pid was not reused while /proc was read.
        if (p is null || !Alive(pidfd))
        {
            return null;
        }
        _table.Add(p);
        return p;
    }

    private static unsafe bool Alive(int pidfd)
    {
        var pfd = new InotifyNative.PollFd { Fd = pidfd, Events = InotifyNative.PollIn };
        // A pidfd polls readable once its process has exited.
        return InotifyNative.Poll(&pfd, 1, 0) == 0;
    }

    private Actor ToActor(ProcessIdentity p)
    {
        var actor = NewActor(p);
        if ((p.CgroupText ?? _cgroups?.ProcCgroupText(p.CgroupId)) is { } cgroup)
        {
            WriterCgroups.Remember(actor, cgroup);
        }
        return actor;
    }

    private Actor NewActor(ProcessIdentity p) => new()
    {
        Pid = p.Pid,
        Ppid = p.Ppid,
        Process = p.Comm,
        Executable = p.Executable,
        CommandLine = _commandLine ? CommandLine(p.Arguments) : null,
        Uid = Set(p.Uid),
        Euid = Set(p.Euid),
        Gid = Set(p.Gid),
        User = Set(p.Uid) is { } uid ? Name(_users, uid, false) : null,
        Group = Set(p.Gid) is { } gid ? Name(_groups, gid, true) : null,
        LoginUid = Set(p.LoginUid),
        LoginUser = Set(p.LoginUid) is { } auid ? Name(_users, auid, false) : null,
        SessionId = Set(p.SessionId),
    };

    private static uint? Set(uint id) => id == ProcessIdentity.Unset ? null : id;

    private static string? Name(Dictionary<uint, string?> cache, uint id, bool group)
    {
        if (!cache.TryGetValue(id, out var name))
        {
            name = group ? Fim.Core.Native.Posix.GroupName(id) : Fim.Core.Native.Posix.UserName(id);
            cache[id] = name;
        }
        return name;
    }

    public static string? CommandLine(byte[]? arguments)
    {
        if (arguments is null || arguments.Length == 0)
        {
            return null;
        }
        var span = arguments.AsSpan();
        if (span[^1] == 0)
        {
            span = span[..^1];
        }
        var text = Encoding.UTF8.GetString(span).Replace('\0', ' ');
        return text.Length > Actor.MaxCommandLine ? text[..Actor.MaxCommandLine] : text;
    }
}

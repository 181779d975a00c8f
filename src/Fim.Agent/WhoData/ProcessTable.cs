namespace Fim.Agent.WhoData;

/// <summary>
/// Processes by pid and start time, fed at fork, exec and exit, so a writer is still known after it exited. Pid reuse
/// never names the wrong process: an entry is found by pid and start time (a live writer), or a dead writer's pid
/// must match exactly one exited process; anything else is unknown, with the reason.
/// </summary>
/// <remarks>
/// Owned by one thread (the fanotify reader). Exited entries are dropped once no event written before their exit can
/// still be unread: <see cref="Purge"/> is called with the drain that preceded a read that emptied the event queue.
/// </remarks>
public sealed class ProcessTable
{
    /// <summary>Kernel feed ns -> /proc clock ticks (USER_HZ is 100 on every Linux ABI .NET runs on).</summary>
    public const ulong NsPerTick = 10_000_000;

    private readonly Dictionary<int, List<ProcessIdentity>> _byPid = [];
    private readonly Dictionary<string, string> _realPaths = new(StringComparer.Ordinal);
    private readonly int _maxEntries;
    private long _lossyThroughDrain = -1;
    private int _count;

    public ProcessTable(int maxEntries = 1 << 20) => _maxEntries = maxEntries;

    /// <summary>Counts feed reads; exits are stamped with it.</summary>
    public long Drain { get; private set; }

    public int Count => _count;

    /// <summary>True while records the kernel could not queue may have left a process out.</summary>
    public bool Lossy => _lossyThroughDrain >= 0;

    public void BeginDrain() => Drain++;

    /// <summary>The kernel dropped records: until the entries of this drain are purged, a dead writer is not named.</summary>
    public void RecordsLost() => _lossyThroughDrain = Drain;

    public void Apply(ProcessRecord r)
    {
        var start = r.Start / NsPerTick;
        switch (r.Kind)
        {
            case ProcessRecordKind.Fork:
                {
                    var p = GetOrAdd(r.Pid, start);
                    Fill(p, r);
                    if (Find(r.Ppid, r.ParentStart / NsPerTick) is { Known: true } parent)
                    {
                        p.Executable = parent.Executable;
                        p.Arguments = parent.Arguments;
                    }
                    break;
                }
            case ProcessRecordKind.Exec:
                {
                    var p = GetOrAdd(r.Pid, start);
                    Fill(p, r);
                    p.Executable = Resolve(r.Executable);
                    p.Arguments = r.Arguments;
                    break;
                }
            case ProcessRecordKind.Exit:
                {
                    // Seen only exiting: it started before the feed. Known to exist, so its pid is not mistaken for another.
                    var p = GetOrAdd(r.Pid, start);
                    p.ExitDrain = Drain;
                    if (r.CgroupId != 0)
                    {
                        p.CgroupId = r.CgroupId;
                    }
                    break;
                }
        }
    }

    /// <summary>Adds what /proc said about a live process (one the feed never saw start).</summary>
    public void Add(ProcessIdentity identity)
    {
        if (Find(identity.Pid, identity.Start) is null)
        {
            Insert(identity);
        }
    }

    public ProcessIdentity? Find(int pid, ulong startTicks)
    {
        if (_byPid.TryGetValue(pid, out var list))
        {
            foreach (var p in list)
            {
                if (p.Start == startTicks)
                {
                    return p;
                }
            }
        }
        return null;
    }

    /// <summary>
    /// The process that wrote and had exited before its event was read: the one exited process with this pid, or
    /// null with the reason.
    /// </summary>
    public ProcessIdentity? FindExited(int pid, out string? unknownReason)
    {
        ProcessIdentity? found = null;
        var matches = 0;
        if (_byPid.TryGetValue(pid, out var list))
        {
            foreach (var p in list)
            {
                if (p.Exited)
                {
                    found = p;
                    matches++;
                }
            }
        }
        if (Lossy)
        {
            unknownReason = "process-table-lost-records";
            return null;
        }
        unknownReason = matches switch
        {
            0 => "exited-unseen",
            1 when !found!.Known => "started-before-agent",
            1 => null,
            _ => "pid-reused",
        };
        return unknownReason is null ? found : null;
    }

    /// <summary>Forgets everything (a bounded cache of /proc reads, when no feed reports exits).</summary>
    public void Clear()
    {
        _byPid.Clear();
        _count = 0;
    }

    /// <summary>Drops processes whose exit was read in <paramref name="throughDrain"/> or earlier.</summary>
    public void Purge(long throughDrain)
    {
        List<int>? empty = null;
        foreach (var (pid, list) in _byPid)
        {
            _count -= list.RemoveAll(p => p.Exited && p.ExitDrain <= throughDrain);
            if (list.Count == 0)
            {
                (empty ??= []).Add(pid);
            }
        }
        empty?.ForEach(p => _byPid.Remove(p));
        if (_lossyThroughDrain >= 0 && _lossyThroughDrain <= throughDrain)
        {
            _lossyThroughDrain = -1;
        }
    }

    private ProcessIdentity GetOrAdd(int pid, ulong start)
    {
        if (Find(pid, start) is { } p)
        {
            return p;
        }
        p = new ProcessIdentity(pid, start);
        Insert(p);
        return p;
    }

    private void Insert(ProcessIdentity p)
    {
        if (_count >= _maxEntries)
        {
            // A bound, not a cache policy: dropping everything only makes later answers "unknown", never wrong.
            _byPid.Clear();
            _count = 0;
            _lossyThroughDrain = Drain;
        }
        if (!_byPid.TryGetValue(p.Pid, out var list))
        {
            _byPid[p.Pid] = list = new List<ProcessIdentity>(1);
        }
        list.Add(p);
        _count++;
    }

    /// <summary>
    /// The path execve was given, with symlinks resolved (/usr/bin/sh -> /usr/bin/dash) as /proc/&lt;pid&gt;/exe gives it,
    /// so a writer is named alike whether it was read live or from the table. Relative paths stay as given.
    /// </summary>
    private string? Resolve(string? executable)
    {
        if (executable is null || !executable.StartsWith('/'))
        {
            return executable;
        }
        if (!_realPaths.TryGetValue(executable, out var real))
        {
            real = FanotifyNative.RealPath(executable) ?? executable;
            if (_realPaths.Count > 4096)
            {
                _realPaths.Clear();
            }
            _realPaths[executable] = real;
        }
        return real;
    }

    private static void Fill(ProcessIdentity p, ProcessRecord r)
    {
        p.Ppid = r.Ppid;
        p.Uid = r.Uid;
        p.Euid = r.Euid;
        p.Gid = r.Gid;
        p.LoginUid = r.LoginUid;
        p.SessionId = r.SessionId;
        p.Comm = r.Comm;
        p.CgroupId = r.CgroupId;
        p.Known = true;
    }
}

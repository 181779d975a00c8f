using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Fim.Core.Native;

namespace Fim.Agent.WhoData;

/// <summary>
/// Feeds a <see cref="ProcessTable"/> from the eBPF programs in fim-proctable.bpf.o (sched_process_fork, _exec and
/// _exit, recorded in the kernel as they happen). <see cref="Drain"/> is called by the table's owner thread.
/// </summary>
public sealed unsafe class BpfProcessFeed : IDisposable
{
    public const string ObjectFileName = "fim-proctable.bpf.o";
    private static readonly string[] Programs = ["fim_fork", "fim_exec", "fim_exit"];

    private readonly ProcessTable _table;
    private readonly List<nint> _links = [];
    private readonly nint _object;
    private readonly nint _ring;
    private readonly int _droppedFd;
    private GCHandle _self;
    private ulong _dropped;
    private bool _disposed;

    private BpfProcessFeed(ProcessTable table, nint obj)
    {
        _table = table;
        _object = obj;
        _self = GCHandle.Alloc(this);
        try
        {
            foreach (var name in Programs)
            {
                var prog = LibBpf.FindProgram(obj, name);
                if (prog == 0)
                {
                    throw new WhoDataUnavailableException($"the BPF object has no program {name}");
                }
                var link = LibBpf.ProgramAttach(prog);
                if (link == 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    throw new WhoDataUnavailableException($"attaching {name} failed: {Libc.Describe(errno)}");
                }
                _links.Add(link);
            }
            var eventsFd = LibBpf.FindMapFd(obj, "events");
            _droppedFd = LibBpf.FindMapFd(obj, "dropped");
            if (eventsFd < 0 || _droppedFd < 0)
            {
                throw new WhoDataUnavailableException("the BPF object lacks its maps");
            }
            _ring = LibBpf.RingBufferNew(eventsFd, &OnRecord, GCHandle.ToIntPtr(_self), 0);
            if (_ring == 0)
            {
                throw new WhoDataUnavailableException($"ring_buffer__new failed: {Libc.Describe(Marshal.GetLastPInvokeError())}");
            }
        }
        catch
        {
            Release();
            throw;
        }
    }

    /// <summary>
    /// Loads and attaches the programs, or throws <see cref="WhoDataUnavailableException"/> saying why (no object
    /// built, no libbpf, no BTF, not permitted).
    /// </summary>
    public static BpfProcessFeed Start(ProcessTable table, string? objectPath = null)
    {
        objectPath ??= Path.Combine(AppContext.BaseDirectory, ObjectFileName);
        if (!File.Exists(objectPath))
        {
            throw new WhoDataUnavailableException($"{objectPath} was not built (the build needs clang, bpftool and libbpf-dev: scripts/install-deps.sh)");
        }
        if (!File.Exists("/sys/kernel/btf/vmlinux"))
        {
            throw new WhoDataUnavailableException("the kernel has no BTF (/sys/kernel/btf/vmlinux), which the CO-RE programs need");
        }
        nint obj;
        try
        {
            LibBpf.SetPrint(0); // libbpf would print to stderr; the failure is reported through the exception
            obj = LibBpf.ObjectOpenFile(objectPath, 0);
        }
        catch (DllNotFoundException e)
        {
            throw new WhoDataUnavailableException($"libbpf (libbpf.so.1) is not installed: {e.Message}");
        }
        if (obj == 0)
        {
            throw new WhoDataUnavailableException($"opening {objectPath} failed: {Libc.Describe(Marshal.GetLastPInvokeError())}");
        }
        var rc = LibBpf.ObjectLoad(obj);
        if (rc < 0)
        {
            LibBpf.ObjectClose(obj);
            throw new WhoDataUnavailableException($"loading the BPF programs failed: {Libc.Describe(-rc)} (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)");
        }
        try
        {
            return new BpfProcessFeed(table, obj);
        }
        catch
        {
            LibBpf.ObjectClose(obj);
            throw;
        }
    }

    /// <summary>Readable (poll) when records are queued: the reader wakes for them instead of finding the ring full later.</summary>
    public int WakeFd => LibBpf.RingBufferEpollFd(_ring);

    /// <summary>Reads every record queued so far into the table (non-blocking).</summary>
    public void Drain()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _table.BeginDrain();
        LibBpf.RingBufferConsume(_ring);
        uint key = 0;
        ulong dropped = 0;
        if (LibBpf.MapLookup(_droppedFd, &key, &dropped) == 0 && dropped != _dropped)
        {
            _dropped = dropped;
            _table.RecordsLost();
            LostRecords = dropped;
        }
    }

    /// <summary>Records the kernel could not queue since the feed started.</summary>
    public ulong LostRecords { get; private set; }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnRecord(nint ctx, void* data, nuint size)
    {
        try
        {
            var feed = (BpfProcessFeed)GCHandle.FromIntPtr(ctx).Target!;
            if (ProcessRecord.Parse(new ReadOnlySpan<byte>(data, (int)size)) is { } record)
            {
                feed._table.Apply(record);
            }
            return 0;
        }
        catch
        {
            return 0; // an exception must not cross into libbpf
        }
    }

    private void Release()
    {
        if (_ring != 0)
        {
            LibBpf.RingBufferFree(_ring);
        }
        foreach (var link in _links)
        {
            LibBpf.LinkDestroy(link);
        }
        _links.Clear();
        if (_self.IsAllocated)
        {
            _self.Free();
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Release();
        LibBpf.ObjectClose(_object);
    }
}

/// <summary>A who-data source could not be used; the message says why, for the log, metric and heartbeat.</summary>
public sealed class WhoDataUnavailableException(string message) : Exception(message);

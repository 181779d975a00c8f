using System.Runtime.InteropServices;

namespace Fim.Agent.WhoData;

/// <summary>The few libbpf 1.x calls the process table needs: open, load and attach a CO-RE object, read its ring buffer.</summary>
internal static unsafe partial class LibBpf
{
    private const string Library = "libbpf.so.1";

    [LibraryImport(Library, EntryPoint = "libbpf_set_print")]
    public static partial nint SetPrint(nint fn);

    [LibraryImport(Library, EntryPoint = "bpf_object__open_file", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint ObjectOpenFile(string path, nint opts);

    [LibraryImport(Library, EntryPoint = "bpf_object__load")]
    public static partial int ObjectLoad(nint obj);

    [LibraryImport(Library, EntryPoint = "bpf_object__close")]
    public static partial void ObjectClose(nint obj);

    [LibraryImport(Library, EntryPoint = "bpf_object__find_program_by_name", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint FindProgram(nint obj, string name);

    [LibraryImport(Library, EntryPoint = "bpf_object__find_map_fd_by_name", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int FindMapFd(nint obj, string name);

    [LibraryImport(Library, EntryPoint = "bpf_program__attach", SetLastError = true)]
    public static partial nint ProgramAttach(nint prog);

    [LibraryImport(Library, EntryPoint = "bpf_link__destroy")]
    public static partial int LinkDestroy(nint link);

    [LibraryImport(Library, EntryPoint = "bpf_map_lookup_elem", SetLastError = true)]
    public static partial int MapLookup(int fd, void* key, void* value);

    [LibraryImport(Library, EntryPoint = "ring_buffer__new", SetLastError = true)]
    public static partial nint RingBufferNew(int mapFd, delegate* unmanaged[Cdecl]<nint, void*, nuint, int> sample, nint ctx, nint opts);

    [LibraryImport(Library, EntryPoint = "ring_buffer__epoll_fd")]
    public static partial int RingBufferEpollFd(nint rb);

    [LibraryImport(Library, EntryPoint = "ring_buffer__consume")]
    public static partial int RingBufferConsume(nint rb);

    [LibraryImport(Library, EntryPoint = "ring_buffer__free")]
    public static partial void RingBufferFree(nint rb);
}

using System.Collections.Concurrent;
using Fim.Core.Native;

namespace Fim.Core.Scanning;

/// <summary>
/// File systems that hold kernel state rather than files (like Wazuh's skip_proc, skip_sys, skip_dev): their
/// "files" change on every read, some block or consume what they return (/proc/kmsg, trace_pipe), and /proc alone
/// has millions of entries. They are refused as roots and skipped below one, known by statfs f_type.
/// </summary>
public static class PseudoFileSystems
{
    // Magic numbers from linux/magic.h.
    private static readonly Dictionary<long, string> Names = new()
    {
        [0x9fa0] = "proc",
        [0x62656572] = "sysfs",
        [0x64626720] = "debugfs",
        [0x74726163] = "tracefs",
        [0x73636673] = "securityfs",
        [0x27e0eb] = "cgroup",
        [0x63677270] = "cgroup2",
        [unchecked((long)0xcafe4a11)] = "bpf",
        [0x6165676c] = "pstore",
        [0x62656570] = "configfs",
        [0x1cd1] = "devpts",
        [0x19800202] = "mqueue",
        [unchecked((long)0x958458f6)] = "hugetlbfs",
        [0x65735543] = "fusectl",
        [unchecked((long)0xde5e81e4)] = "efivarfs",
        [0x42494e4d] = "binfmt_misc",
        [unchecked((long)0xf97cff8c)] = "selinuxfs",
        [0x43415d53] = "smackfs",
        [0x6e736673] = "nsfs",
        [0x67596969] = "rpc_pipefs",
        [0x50495045] = "pipefs",
        [0x534f434b] = "sockfs",
        [0x09041934] = "anon_inodefs",
    };

    /// <summary>The pseudo file system's name for a statfs f_type, or null for a file system with real files.</summary>
    public static string? NameOf(long type) => Names.TryGetValue(type, out var name) ? name : null;

    /// <summary>The pseudo file system holding <paramref name="path"/>, or null (also when statfs fails: the scan reports that path itself).</summary>
    public static string? Holding(ReadOnlySpan<byte> path) =>
        Posix.FileSystemType(path, out var type) == 0 ? NameOf(type) : null;
}

/// <summary>Per scan: which devices are pseudo file systems, each looked up with statfs once.</summary>
internal sealed class PseudoFileSystemCache
{
    private readonly ConcurrentDictionary<ulong, string?> _byDevice = new();

    /// <summary>The pseudo file system <paramref name="path"/> (on <paramref name="device"/>) is on, or null; <paramref name="first"/> is true once per device.</summary>
    public string? Lookup(ulong device, ReadOnlySpan<byte> path, out bool first)
    {
        first = false;
        if (_byDevice.TryGetValue(device, out var known))
        {
            return known;
        }
        var name = PseudoFileSystems.Holding(path);
        first = _byDevice.TryAdd(device, name);
        return name;
    }
}

using System.Buffers.Binary;
using System.Text;
using Fim.Core.Native;

namespace Fim.Agent.WhoData;

/// <summary>
/// Turns the cgroup v2 id the kernel feed records (the inode of the cgroup's directory) into the cgroup's path, as
/// the v2 line of /proc/&lt;pid&gt;/cgroup would give it: the directory is opened by a kernfs file handle built from
/// the id, which needs no walk of the hierarchy. Needs CAP_DAC_READ_SEARCH (as fanotify's handles do). A cgroup
/// removed before it is looked up has no path: its writer's pod is then unknown, never guessed.
/// </summary>
public sealed class CgroupPaths : IDisposable
{
    private const int FileIdKernfs = 0xfe;
    private readonly int _mountFd = -1;
    private readonly string? _mountPoint;
    private readonly Dictionary<ulong, string?> _cache = [];
    private readonly Lock _gate = new();

    private static readonly Lazy<CgroupPaths> SharedInstance = new(() => new CgroupPaths());

    /// <summary>The agent's one instance (one mount fd, one cache), shared by every policy's fanotify reader.</summary>
    public static CgroupPaths Shared => SharedInstance.Value;

    public CgroupPaths(string mountInfo = "/proc/self/mountinfo")
    {
        _mountPoint = FindCgroup2(mountInfo);
        if (_mountPoint is null)
        {
            return;
        }
        unsafe
        {
            fixed (byte* path = Encoding.UTF8.GetBytes(_mountPoint + "\0"))
            {
                _mountFd = Libc.openat(Libc.AT_FDCWD, path, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
            }
        }
    }

    /// <summary>The cgroup v2 hierarchy's mount point, or null when there is none (a pure cgroup v1 host).</summary>
    public string? MountPoint => _mountPoint;

    /// <summary>The text of a /proc/&lt;pid&gt;/cgroup file naming only the v2 cgroup <paramref name="id"/>; null when unknown.</summary>
    public string? ProcCgroupText(ulong id) => Path(id) is { } p ? $"0::{p}\n" : null;

    /// <summary>The path of cgroup <paramref name="id"/> below the hierarchy's root ("/" for the root); null when unknown or gone.</summary>
    public string? Path(ulong id)
    {
        if (id == 0 || _mountFd < 0)
        {
            return null;
        }
        lock (_gate)
        {
            return Lookup(id);
        }
    }

    private string? Lookup(ulong id)
    {
        if (_cache.TryGetValue(id, out var cached))
        {
            return cached;
        }
        var path = Open(id);
        if (path is not null)
        {
            // Ids are never reused while the kernel runs, so a found path stays right until the cgroup is renamed
            // (cgroups cannot be). A miss is not cached: the lookup may have raced the cgroup's creation.
            if (_cache.Count >= 4096)
            {
                _cache.Clear();
            }
            _cache[id] = path;
        }
        return path;
    }

    private unsafe string? Open(ulong id)
    {
        // struct file_handle { u32 handle_bytes; int handle_type; u64 kernfs id; }
        var handle = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(handle, 4), 8);
        BinaryPrimitives.WriteInt32LittleEndian(new Span<byte>(handle + 4, 4), FileIdKernfs);
        BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(handle + 8, 8), id);
        var fd = FanotifyNative.OpenByHandleAt(_mountFd, handle, Libc.O_PATH | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            return null;
        }
        try
        {
            var target = Posix.ReadLinkPath(Encoding.ASCII.GetBytes($"/proc/self/fd/{fd}"));
            if (target is null)
            {
                return null;
            }
            var full = Encoding.UTF8.GetString(target);
            return full == _mountPoint ? "/" : full.StartsWith(_mountPoint + "/", StringComparison.Ordinal) ? full[_mountPoint!.Length..] : null;
        }
        finally
        {
            Libc.close(fd);
        }
    }

    private static string? FindCgroup2(string mountInfo)
    {
        try
        {
            foreach (var line in File.ReadLines(mountInfo))
            {
                // "<id> <parent> <dev> <root> <mount point> <options> ... - <fstype> <source> <super options>"
                var dash = line.IndexOf(" - ", StringComparison.Ordinal);
                if (dash < 0 || !line.AsSpan(dash + 3).StartsWith("cgroup2 "))
                {
                    continue;
                }
                var fields = line[..dash].Split(' ');
                if (fields.Length >= 5 && fields[3] == "/")
                {
                    return Unescape(fields[4]);
                }
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    /// <summary>mountinfo writes space, tab, newline and backslash as \ooo.</summary>
    private static string Unescape(string s) => s.Contains('\\')
        ? System.Text.RegularExpressions.Regex.Replace(s, @"\\([0-7]{3})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString())
        : s;

    public void Dispose()
    {
        if (_mountFd >= 0)
        {
            Libc.close(_mountFd);
        }
    }
}

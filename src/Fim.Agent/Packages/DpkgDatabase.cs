using System.Text;

namespace Fim.Agent.Packages;

/// <summary>
/// dpkg's database under a host root: installed packages and versions from var/lib/dpkg/status (with the conffiles'
/// digests), the files of each from info/&lt;pkg&gt;.list, their MD5s from info/&lt;pkg&gt;.md5sums, and transactions from
/// var/log/dpkg.log. Indexed once; <see cref="Refresh"/> re-reads it only when the status file, the info directory or
/// the log changed (dpkg rewrites the status file at every step of a transaction).
/// </summary>
public sealed class DpkgDatabase : IPackageDatabase
{
    /// <summary>Paths that left the index at a refresh are remembered at most this many at once.</summary>
    public const int MaxDeparted = 100_000;

    private readonly string _admin;
    private readonly DpkgLog _log;
    private readonly DpkgLock _lock;
    private Dictionary<string, PackageOwner> _owners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PackageOwner> _departed = new(StringComparer.Ordinal);
    private (FileStamp Status, FileStamp Info) _seen;

    /// <param name="root">Where the host's file system is mounted ("/" on the host itself).</param>
    public DpkgDatabase(string root, TimeZoneInfo? zone = null)
    {
        var r = root.TrimEnd('/');
        _admin = r + "/var/lib/dpkg";
        _log = new DpkgLog(r + "/var/log/dpkg.log", zone ?? TimeZoneInfo.Local);
        _lock = new DpkgLock(_admin + "/lock");
    }

    public string Manager => Contracts.PackageInfo.Dpkg;

    public bool Present => File.Exists(_admin + "/status");

    public bool Busy => _lock.IsHeld();

    public int Count => _owners.Count;

    public bool Refresh()
    {
        _log.Refresh();
        var stamp = (FileStamp.Of(_admin + "/status"), FileStamp.Of(_admin + "/info"));
        if (stamp == _seen)
        {
            return false;
        }
        _seen = stamp;
        var fresh = Read();
        foreach (var (path, owner) in _owners)
        {
            if (!fresh.ContainsKey(path))
            {
                if (_departed.Count >= MaxDeparted)
                {
                    _departed.Clear();
                }
                _departed[path] = owner;
            }
        }
        foreach (var path in fresh.Keys)
        {
            _departed.Remove(path);
        }
        _owners = fresh;
        return true;
    }

    public PackageOwner? Find(string hostPath) => _owners.GetValueOrDefault(hostPath);

    public PackageOwner? FindDeparted(string hostPath) => _departed.GetValueOrDefault(hostPath);

    public PackageTransaction? LastTransaction(string package, DateTimeOffset since) => _log.Last(package, since);

    private Dictionary<string, PackageOwner> Read()
    {
        var owners = new Dictionary<string, PackageOwner>(StringComparer.Ordinal);
        foreach (var p in DpkgStatus.Read(_admin + "/status"))
        {
            if (!p.Installed)
            {
                continue;
            }
            // Multi-Arch: same packages name their files <pkg>:<arch>.*; others <pkg>.*.
            var stem = File.Exists($"{_admin}/info/{p.Name}:{p.Architecture}.list") ? $"{p.Name}:{p.Architecture}" : p.Name;
            foreach (var path in ReadLines($"{_admin}/info/{stem}.list"))
            {
                if (path.Length > 1 && path[0] == '/' && path != "/.")
                {
                    owners.TryAdd(path, new PackageOwner(Manager, p.Name, p.Version, null, DigestAlgorithm.None));
                }
            }
            foreach (var line in ReadLines($"{_admin}/info/{stem}.md5sums"))
            {
                // "<md5>  <path without the leading slash>"
                if (line.Length > 34 && line[32] == ' ')
                {
                    var path = "/" + line[34..].TrimStart('/');
                    owners[path] = new PackageOwner(Manager, p.Name, p.Version, line[..32].ToLowerInvariant(), DigestAlgorithm.Md5);
                }
            }
            foreach (var (path, md5) in p.Conffiles)
            {
                owners[path] = new PackageOwner(Manager, p.Name, p.Version, md5, DigestAlgorithm.Md5, Conffile: true);
            }
        }
        return owners;
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path, Encoding.UTF8);
        }
        catch (IOException)
        {
            yield break;
        }
        catch (UnauthorizedAccessException)
        {
            yield break;
        }
        foreach (var line in lines)
        {
            yield return line;
        }
    }
}

/// <summary>One stanza of dpkg's status file, the fields the index needs.</summary>
public sealed record DpkgPackage(string Name, string Architecture, string? Version, bool Installed, IReadOnlyList<(string Path, string Md5)> Conffiles);

/// <summary>Reads var/lib/dpkg/status: RFC 822-style stanzas separated by blank lines.</summary>
public static class DpkgStatus
{
    public static List<DpkgPackage> Read(string path)
    {
        var packages = new List<DpkgPackage>();
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (IOException)
        {
            return packages;
        }
        catch (UnauthorizedAccessException)
        {
            return packages;
        }
        string? name = null, arch = null, version = null, status = null;
        var conffiles = new List<(string, string)>();
        var inConffiles = false;
        void Flush()
        {
            if (name is not null)
            {
                // "want flag status": a package whose files are on disk is unpacked or further along.
                var state = status?.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
                var installed = state is "installed" or "unpacked" or "half-configured" or "triggers-awaited" or "triggers-pending";
                packages.Add(new DpkgPackage(name, arch ?? "", version, installed, [.. conffiles]));
            }
            name = arch = version = status = null;
            conffiles.Clear();
            inConffiles = false;
        }
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0)
            {
                Flush();
                continue;
            }
            if (line[0] is ' ' or '\t')
            {
                if (inConffiles)
                {
                    // " /etc/foo 0123...abcd [obsolete]"
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length >= 2 && parts[0].StartsWith('/') && parts[1].Length == 32)
                    {
                        conffiles.Add((parts[0], parts[1].ToLowerInvariant()));
                    }
                }
                continue;
            }
            inConffiles = false;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }
            var value = line[(colon + 1)..].Trim();
            switch (line[..colon])
            {
                case "Package":
                    name = value;
                    break;
                case "Architecture":
                    arch = value;
                    break;
                case "Version":
                    version = value;
                    break;
                case "Status":
                    status = value;
                    break;
                case "Conffiles":
                    inConffiles = true;
                    break;
            }
        }
        Flush();
        return packages;
    }
}

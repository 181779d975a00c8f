using System.Text;

namespace Fim.Agent.Packages;

/// <summary>
/// dpkg's database under a host root: installed packages and versions from var/lib/dpkg/status (with the conffiles'
/// digests), the files of each from info/&lt;pkg&gt;.list, their MD5s from info/&lt;pkg&gt;.md5sums, and transactions from
/// var/log/dpkg.log. Indexed once; <see cref="Refresh"/> re-reads it only when the status file, the info directory or
/// the log changed (dpkg rewrites the status file at every step of a transaction). Only the paths in <see cref="Scope"/>
/// (below the monitored roots) are kept, and only the packages that list one of them.
/// </summary>
public sealed class DpkgDatabase : IPackageDatabase
{
    /// <summary>Paths that left the index at a refresh are remembered at most this many at once.</summary>
    public const int MaxDeparted = 100_000;

    private readonly string _admin;
    private readonly DpkgLog _log;
    private readonly DpkgLock _lock;
    private Index _index = new([], new PackagePathIndex());
    private readonly Dictionary<string, PackageOwner> _departed = new(StringComparer.Ordinal);
    private (FileStamp Status, FileStamp Info) _seen;
    private PackageScope? _indexedScope;

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

    public int Count => _index.Files.Count;

    /// <summary>How many packages the index holds: those listing a path in <see cref="Scope"/>.</summary>
    public int PackageCount => _index.Packages.Count;

    public PackageScope Scope { get; set; } = PackageScope.Everything;

    public bool Refresh()
    {
        _log.Refresh();
        var stamp = (FileStamp.Of(_admin + "/status"), FileStamp.Of(_admin + "/info"));
        var scope = Scope;
        if (stamp == _seen && scope.Equals(_indexedScope))
        {
            return false;
        }
        _seen = stamp;
        var rescoped = !scope.Equals(_indexedScope);
        _indexedScope = scope;
        var fresh = Read(scope);
        foreach (var (number, entry) in _index.Files.Entries())
        {
            // A path that only left the scope did not leave the database: departed means dpkg no longer lists it.
            if (!fresh.Files.Contains(_index.Files.PathBytes(number)) && (!rescoped || scope.Covers(_index.Files.PathOf(number))))
            {
                if (_departed.Count >= MaxDeparted)
                {
                    _departed.Clear();
                }
                _departed[_index.Files.PathOf(number)] = _index.Owner(entry);
            }
        }
        if (_departed.Count > 0)
        {
            foreach (var path in _departed.Keys.ToList())
            {
                if (fresh.Files.TryGet(path, out _, out _) || !scope.Covers(path))
                {
                    _departed.Remove(path);
                }
            }
        }
        _index = fresh;
        return true;
    }

    public PackageOwner? Find(string hostPath) => _index.Files.TryGet(hostPath, out var entry, out _) ? _index.Owner(entry) : null;

    /// <summary>Every package that lists <paramref name="hostPath"/> (directories are shared: /usr/bin is in most packages).</summary>
    public IEnumerable<PackageOwner> FindAll(string hostPath)
    {
        if (!_index.Files.TryGet(hostPath, out var entry, out var number))
        {
            yield break;
        }
        yield return _index.Owner(entry);
        if (_index.Shared.TryGetValue(number, out var others))
        {
            foreach (var other in others)
            {
                yield return _index.Owner(new PackagePathEntry(other, default, false, false));
            }
        }
    }

    public PackageOwner? FindDeparted(string hostPath) => _departed.GetValueOrDefault(hostPath);

    public PackageTransaction? LastTransaction(string package, DateTimeOffset since) => _log.Last(package, since);

    private Index Read(PackageScope scope)
    {
        var packages = new List<DpkgPackage>();
        var files = new PackagePathIndex();
        var shared = new Dictionary<int, List<int>>();
        if (scope.IsEmpty)
        {
            // Nothing is monitored yet: no file list needs reading.
            files.Trim();
            return new Index(packages, files);
        }
        foreach (var p in DpkgStatus.Read(_admin + "/status"))
        {
            if (!p.Installed)
            {
                continue;
            }
            // Numbered when it lists its first path in scope: a package with none is not kept.
            var id = -1;
            int Id()
            {
                if (id < 0)
                {
                    id = packages.Count;
                    packages.Add(p);
                }
                return id;
            }
            // Multi-Arch: same packages name their files <pkg>:<arch>.*; others <pkg>.*.
            var stem = File.Exists($"{_admin}/info/{p.Name}:{p.Architecture}.list") ? $"{p.Name}:{p.Architecture}" : p.Name;
            foreach (var path in ReadLines($"{_admin}/info/{stem}.list"))
            {
                if (path.Length > 1 && path[0] == '/' && path != "/." && scope.Covers(path))
                {
                    if (!files.TryAdd(path, new PackagePathEntry(Id(), default, false, false), out var number))
                    {
                        (shared.TryGetValue(number, out var list) ? list : shared[number] = []).Add(Id());
                    }
                }
            }
            foreach (var line in ReadLines($"{_admin}/info/{stem}.md5sums"))
            {
                // "<md5>  <path without the leading slash>"
                if (line.Length > 34 && line[32] == ' ' && UInt128.TryParse(line.AsSpan(0, 32), System.Globalization.NumberStyles.HexNumber, null, out var md5))
                {
                    var path = "/" + line.AsSpan(34).TrimStart('/').ToString();
                    if (scope.Covers(path))
                    {
                        files.Set(path, new PackagePathEntry(Id(), md5, true, false));
                    }
                }
            }
            foreach (var (path, md5) in p.Conffiles)
            {
                if (scope.Covers(path) && UInt128.TryParse(md5, System.Globalization.NumberStyles.HexNumber, null, out var digest))
                {
                    files.Set(path, new PackagePathEntry(Id(), digest, true, true));
                }
            }
        }
        files.Trim();
        return new Index(packages, files) { Shared = shared };
    }

    private sealed record Index(List<DpkgPackage> Packages, PackagePathIndex Files)
    {
        /// <summary>For a path listed by more than one package (directories, mostly), by its number in <see cref="Files"/>: the other packages.</summary>
        public Dictionary<int, List<int>> Shared { get; init; } = [];

        public PackageOwner Owner(PackagePathEntry e)
        {
            var p = Packages[e.Package];
            return new PackageOwner(Contracts.PackageInfo.Dpkg, p.Name, p.Version, e.HasDigest ? e.Md5.ToString("x32", System.Globalization.CultureInfo.InvariantCulture) : null,
                e.HasDigest ? DigestAlgorithm.Md5 : DigestAlgorithm.None, e.Conffile);
        }
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        // Streamed: a whole file's lines at once were garbage worth megabytes per package at start-up.
        StreamReader reader;
        try
        {
            reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, new FileStreamOptions { BufferSize = 4096 });
        }
        catch (IOException)
        {
            yield break;
        }
        catch (UnauthorizedAccessException)
        {
            yield break;
        }
        using (reader)
        {
            while (true)
            {
                string? line;
                try
                {
                    line = reader.ReadLine();
                }
                catch (IOException)
                {
                    yield break;
                }
                if (line is null)
                {
                    yield break;
                }
                yield return line;
            }
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

using System.Diagnostics;
using System.Globalization;

namespace Fim.Agent.Packages;

/// <summary>
/// The rpm database under a host root (/usr/lib/sysimage/rpm or /var/lib/rpm), read through the rpm CLI with fixed
/// arguments (`rpm --root R --dbpath D -qa --qf ...`): names, versions, install times, and each file's digest. rpm keeps
/// no transaction log, so a package's install time is its transaction, and the version it replaced is the one this
/// index held before (known when the agent indexed the database before the upgrade, as it does at start).
/// </summary>
public sealed class RpmDatabase : IPackageDatabase
{
    private const string Format = "[%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{INSTALLTIME}\\t%{FILEDIGESTALGO}\\t%{FILEFLAGS}\\t%{FILEDIGESTS}\\t%{FILENAMES}\\n]";
    private const int ConfigFlag = 1;
    private const int Sha256Algo = 8;
    private static readonly string[] DbPaths = ["/usr/lib/sysimage/rpm", "/var/lib/rpm"];

    private readonly string _root;
    private readonly string _rpm;
    private readonly DpkgLock _lock;
    private Dictionary<string, PackageOwner> _files = new(StringComparer.Ordinal);
    private Dictionary<string, (string Version, DateTimeOffset InstalledAt)> _packages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _replaced = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PackageOwner> _departed = new(StringComparer.Ordinal);
    private FileStamp _seen;
    private PackageScope? _indexedScope;

    public RpmDatabase(string root, string rpmBinary = "/usr/bin/rpm")
    {
        _root = root.TrimEnd('/');
        _rpm = rpmBinary;
        DbPath = DbPaths.FirstOrDefault(p => File.Exists(_root + p + "/rpmdb.sqlite") || File.Exists(_root + p + "/Packages"));
        _lock = new DpkgLock(_root + (DbPath ?? DbPaths[1]) + "/.rpm.lock");
    }

    /// <summary>The database directory as the host knows it, or null when the host has none.</summary>
    public string? DbPath { get; }

    public string Manager => Contracts.PackageInfo.Rpm;

    public bool Present => DbPath is not null && File.Exists(_rpm);

    public bool Busy => _lock.IsHeld();

    /// <summary>Only the files in scope are kept (every package's name and version are: they are few).</summary>
    public PackageScope Scope { get; set; } = PackageScope.Everything;

    public bool Refresh()
    {
        var file = _root + DbPath + (File.Exists(_root + DbPath + "/rpmdb.sqlite") ? "/rpmdb.sqlite" : "/Packages");
        // SQLite writes go to the WAL first: its stamp moves when the database does.
        var stamp = FileStamp.Of(file) is var main && FileStamp.Of(file + "-wal") is { Inode: not 0 } wal ? wal with { Inode = main.Inode ^ wal.Inode } : FileStamp.Of(file);
        var scope = Scope;
        if (stamp == _seen && scope.Equals(_indexedScope))
        {
            return false;
        }
        _seen = stamp;
        _indexedScope = scope;
        var (files, packages) = Read(scope);
        foreach (var (name, (version, _)) in _packages)
        {
            if (packages.TryGetValue(name, out var now) && now.Version != version)
            {
                _replaced[name] = version;
            }
        }
        foreach (var (path, owner) in _files)
        {
            // A path that only left the scope did not leave the database.
            if (!files.ContainsKey(path) && scope.Covers(path))
            {
                _departed[path] = owner;
            }
        }
        _files = files;
        _packages = packages;
        return true;
    }

    public PackageOwner? Find(string hostPath) => _files.GetValueOrDefault(hostPath);

    public IEnumerable<PackageOwner> FindAll(string hostPath) => Find(hostPath) is { } o ? [o] : [];

    public PackageOwner? FindDeparted(string hostPath) => _departed.GetValueOrDefault(hostPath);

    public PackageTransaction? LastTransaction(string package, DateTimeOffset since) =>
        _packages.TryGetValue(package, out var p) && p.InstalledAt >= since
            ? new PackageTransaction(package, _replaced.GetValueOrDefault(package), p.Version, p.InstalledAt)
            : null;

    private (Dictionary<string, PackageOwner>, Dictionary<string, (string Version, DateTimeOffset InstalledAt)>) Read(PackageScope scope)
    {
        var files = new Dictionary<string, PackageOwner>(StringComparer.Ordinal);
        var packages = new Dictionary<string, (string Version, DateTimeOffset InstalledAt)>(StringComparer.Ordinal);
        var start = new ProcessStartInfo(_rpm)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--root", _root.Length == 0 ? "/" : _root, "--dbpath", DbPath!, "-qa", "--qf", Format])
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        _ = process.StandardError.ReadToEndAsync();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            var f = line.Split('\t', 7);
            if (f.Length < 7 || !long.TryParse(f[2], CultureInfo.InvariantCulture, out var installed))
            {
                continue;
            }
            var version = f[1].StartsWith("0:", StringComparison.Ordinal) ? f[1][2..] : f[1];
            packages[f[0]] = (version, DateTimeOffset.FromUnixTimeSeconds(installed));
            if (!scope.Covers(f[6]))
            {
                continue;
            }
            var sha256 = f[3] == Sha256Algo.ToString(CultureInfo.InvariantCulture);
            var config = int.TryParse(f[4], CultureInfo.InvariantCulture, out var flags) && (flags & ConfigFlag) != 0;
            var digest = sha256 && f[5].Length == 64 ? f[5] : null;
            files.TryAdd(f[6], new PackageOwner(Manager, f[0], version, digest, digest is null ? DigestAlgorithm.None : DigestAlgorithm.Sha256, config));
        }
        process.WaitForExit();
        return (files, packages);
    }
}

using System.Security.Cryptography;
using Fim.Contracts;
using Fim.Core.Model;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Packages;

/// <summary>
/// Puts <see cref="FileEvent.Package"/> on events of packaged paths: which package ships the file, whether its content is
/// what the installed version ships (the database's digest), and whether the package manager changed the package just
/// before (its log). The databases are indexed once and re-read only when they change. A file that does not match
/// while the package manager is still running is judged again once it finishes (dpkg puts a file in place before it
/// records the new digests), waiting at most the settle timeout. The indexes keep only the paths below the monitored
/// roots (<see cref="PackageScope"/>): the scope given at construction plus every root <see cref="Cover"/> adds.
/// </summary>
public sealed class PackageAwareness
{
    /// <summary>Names dpkg gives a file while it replaces it (the new content, the backup of the old).</summary>
    private static readonly string[] StagingSuffixes = [".dpkg-new", ".dpkg-tmp", ".dpkg-old", ".dpkg-dist", ".dpkg-bak"];

    private static readonly TimeSpan BusyPoll = TimeSpan.FromMilliseconds(100);

    private readonly IReadOnlyList<IPackageDatabase> _databases;
    private readonly TimeSpan _window;
    private readonly TimeSpan _settle;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private readonly PackageScope _baseScope;
    private readonly List<Coverage> _covered = [];
    // The scope the indexes should have: the base plus every live coverage. Applied under _gate before each read.
    private volatile PackageScope _wanted;

    /// <param name="scope">The host paths to index (null: every path); <see cref="Cover"/> adds to it.</param>
    public PackageAwareness(IReadOnlyList<IPackageDatabase> databases, TimeSpan updateWindow, TimeSpan settleTimeout, TimeProvider time, ILogger log,
        PackageScope? scope = null)
    {
        _databases = databases;
        _window = updateWindow;
        _settle = settleTimeout;
        _time = time;
        _log = log;
        _baseScope = scope ?? PackageScope.Everything;
        _wanted = _baseScope;
    }

    /// <summary>
    /// The databases of the host mounted at <paramref name="hostRoot"/> (null: '/'), or null when awareness is off.
    /// <paramref name="scope"/>: the host paths monitored (null: every path).
    /// </summary>
    public static PackageAwareness? ForHost(string? hostRoot, PackageOptions options, TimeProvider time, ILogger log, PackageScope? scope = null)
    {
        if (!options.Enabled)
        {
            return null;
        }
        var root = string.IsNullOrEmpty(hostRoot) ? "/" : hostRoot;
        return new PackageAwareness([new DpkgDatabase(root), new RpmDatabase(root)], Core.Policy.DurationText.Parse(options.UpdateWindow),
            Core.Policy.DurationText.Parse(options.SettleTimeout), time, log, scope);
    }

    /// <summary>What the indexes keep now, or will at their next read.</summary>
    public PackageScope Scope => _wanted;

    /// <summary>
    /// Adds <paramref name="roots"/> (host paths a policy monitors) to the scope until the result is disposed (the
    /// policy stopped). Takes effect at once for the next annotation; the indexes are read again in the background,
    /// so a file a later transaction removes can still be traced to its package.
    /// </summary>
    public IDisposable Cover(IEnumerable<string> roots)
    {
        var coverage = new Coverage(this, new PackageScope(roots));
        lock (_covered)
        {
            _covered.Add(coverage);
            Rescope();
        }
        return coverage;
    }

    private void Uncover(Coverage coverage)
    {
        lock (_covered)
        {
            if (_covered.Remove(coverage))
            {
                Rescope();
            }
        }
    }

    private void Rescope()
    {
        var wanted = PackageScope.Union([_baseScope, .. _covered.Select(c => c.Scope)]);
        if (wanted.Equals(_wanted))
        {
            return;
        }
        _wanted = wanted;
        _ = Task.Run(() =>
        {
            try
            {
                Prime();
                // The index of the former scope is garbage now: give it back rather than leave an idle agent holding it.
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                _log.LogWarning("indexing the package databases failed ({Problem}); they are read again at the first change", e.Message);
            }
        });
    }

    private void ApplyScope()
    {
        var wanted = _wanted;
        foreach (var db in _databases)
        {
            db.Scope = wanted;
        }
    }

    private sealed class Coverage(PackageAwareness owner, PackageScope scope) : IDisposable
    {
        public PackageScope Scope => scope;

        public void Dispose() => owner.Uncover(this);
    }

    /// <summary>
    /// Indexes the databases now, so a file that a later transaction removes can still be traced to its package (the
    /// index before the transaction knew it).
    /// </summary>
    public PackageAwareness Prime()
    {
        lock (_gate)
        {
            ApplyScope();
            foreach (var db in _databases)
            {
                if (db.Present)
                {
                    db.Refresh();
                }
            }
        }
        return this;
    }

    /// <summary>
    /// <see cref="Prime"/> on a pool thread: indexing dpkg's 100,000+ paths takes seconds, and realtime detection should
    /// not wait for it. The first annotation waits for the index (the same lock), so every event is judged on it.
    /// </summary>
    public PackageAwareness PrimeInBackground()
    {
        var started = new ManualResetEventSlim();
        _ = Task.Run(() =>
        {
            lock (_gate)
            {
                // Held before the caller goes on: no annotation can run ahead of the index it should wait for.
                started.Set();
                try
                {
                    var began = _time.GetTimestamp();
                    Prime();
                    _log.LogInformation("package databases indexed in {Seconds:F1} s", _time.GetElapsedTime(began).TotalSeconds);
                    // Reading every package's file list leaves megabytes of garbage behind the packed index: give
                    // it back now rather than leave an idle agent holding it (the startup scan's collection may be over).
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
                {
                    _log.LogWarning("indexing the package databases failed ({Problem}); they are read again at the first change", e.Message);
                }
            }
        });
        started.Wait();
        started.Dispose();
        return this;
    }

    /// <summary>Sets <paramref name="e"/>'s package, if a package ships its path; <paramref name="change"/>'s path is where the agent reads the file.</summary>
    public void Annotate(FileChange change, FileEvent e)
    {
        if (e.Kind == FileEvent.BaselineResetKind || e.PathBase64 is not null)
        {
            return;
        }
        // One caller at a time: the index is rebuilt in place, and policies share it.
        lock (_gate)
        {
            ApplyScope();
            foreach (var db in _databases)
            {
                if (!db.Present)
                {
                    continue;
                }
                db.Refresh();
                if (Judge(db, change, e) is { } info)
                {
                    e.Package = info;
                    return;
                }
            }
        }
    }

    private PackageInfo? Judge(IPackageDatabase db, FileChange change, FileEvent e)
    {
        var info = JudgeOnce(db, change, e);
        if (info is { Verified: false } && db.Busy)
        {
            var waited = _time.GetTimestamp();
            while (db.Busy && _time.GetElapsedTime(waited) < _settle)
            {
                Thread.Sleep(BusyPoll);
            }
            db.Refresh();
            info = JudgeOnce(db, change, e);
            _log.LogDebug("{Path}: judged again after {Manager} finished ({Elapsed}): verified {Verified}", e.Path, db.Manager, _time.GetElapsedTime(waited), info?.Verified);
        }
        return info;
    }

    private PackageInfo? JudgeOnce(IPackageDatabase db, FileChange change, FileEvent e)
    {
        var since = e.ObservedAt - _window;
        if (db.Find(e.Path) is not { } owner)
        {
            if (change.Kind == ChangeKind.Deleted && db.FindDeparted(e.Path) is { } gone)
            {
                // The package no longer ships this path: removed by its upgrade or removal if that just ran.
                var tx = db.LastTransaction(gone.Package, since);
                return Info(gone, tx, verified: tx is not null);
            }
            if (Staging(e.Path) is { } target && db.Find(target) is { } staged && (db.LastTransaction(staged.Package, since) is { } stx || db.Busy))
            {
                // dpkg's temporary copy next to a file it is replacing; it is gone once the transaction ends.
                return Info(staged, db.LastTransaction(staged.Package, since), verified: true);
            }
            return null;
        }
        var transaction = db.LastTransaction(owner.Package, since);
        if (change.Kind == ChangeKind.Deleted)
        {
            // Still shipped but gone from disk: only a transaction of its package explains that.
            return owner.Conffile && transaction is null ? null : Info(owner, transaction, verified: transaction is not null);
        }
        if (owner.Digest is null)
        {
            // Directories and symlinks: the database keeps no digest, so only a transaction can vouch for a change; of
            // the packages sharing a directory, the one that changed last.
            var latest = db.FindAll(e.Path)
                .Select(o => (Owner: o, Tx: db.LastTransaction(o.Package, since)))
                .Where(x => x.Tx is not null)
                .OrderByDescending(x => x.Tx!.At)
                .FirstOrDefault();
            return latest.Tx is null ? null : Info(latest.Owner, latest.Tx, verified: true);
        }
        var matches = Digest(change.Path, owner.Algorithm) is { } digest && string.Equals(digest, owner.Digest, StringComparison.Ordinal);
        if (!matches && owner.Conffile)
        {
            // Configuration files are the administrator's to edit: not the package's content, not tampering either.
            return null;
        }
        return Info(owner, transaction, matches);
    }

    private static PackageInfo Info(PackageOwner owner, PackageTransaction? tx, bool verified) => new()
    {
        Manager = owner.Manager,
        Name = owner.Package,
        VersionBefore = tx is null ? owner.Version : tx.VersionBefore,
        VersionAfter = tx is null ? owner.Version : tx.VersionAfter ?? owner.Version,
        Verified = verified,
        UpdatedAt = tx?.At,
    };

    private static string? Staging(string path)
    {
        foreach (var suffix in StagingSuffixes)
        {
            if (path.EndsWith(suffix, StringComparison.Ordinal) && path.Length > suffix.Length)
            {
                return path[..^suffix.Length];
            }
        }
        return null;
    }

    /// <summary>The file's digest now, or null when it cannot be read (gone, not a regular file).</summary>
    private static string? Digest(byte[] path, DigestAlgorithm algorithm)
    {
        try
        {
            using var stream = new FileStream(PathBytes.ToDisplay(path), new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite | FileShare.Delete,
                Options = FileOptions.SequentialScan,
            });
            var hash = algorithm switch
            {
                DigestAlgorithm.Md5 => MD5.HashData(stream),
                DigestAlgorithm.Sha256 => SHA256.HashData(stream),
                _ => null,
            };
            return hash is null ? null : Convert.ToHexStringLower(hash);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}

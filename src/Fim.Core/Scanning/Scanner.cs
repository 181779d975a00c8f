using System.Collections.Concurrent;
using System.Diagnostics;
using Fim.Core.Baseline;
using Fim.Core.Model;
using Fim.Core.Native;
using Fim.Core.Policy;

namespace Fim.Core.Scanning;

/// <summary>
/// Walks the policy's roots in parallel, records every entry (lstat, never following symlinks unless asked,
/// never opening what is not a regular file), hashes content only when metadata says it may have changed,
/// and compares with the baseline. Reads the baseline; never writes it: the caller applies <see cref="ScanResult.Updates"/>.
/// The work is done in stages, as AIDE splits its pipeline: <see cref="ScanScope"/> (which rule, where to start and stop),
/// <see cref="TreeWalk"/> (parallel getdents64 walk), <see cref="RecordBuilder"/> (stat to record, hashing),
/// <see cref="RecordComparison"/> (still valid, changed) and <see cref="DeletionPass"/>; this type only composes them.
/// </summary>
public sealed class Scanner
{
    private static int s_generation;
    private readonly RecordComparison _compare;
    private readonly ScanScope _scope;
    private readonly RecordBuilder _builder;
    private readonly DeletionPass _deletions;
    // Realtime observations reuse one hasher. A new one per event put a 256 KB pinned buffer on the pinned-object heap
    // each time, whose budget ran out every dozen events: each time a full collection, in the way of the next alert.
    private ContentHasher? _idleHasher;

    public Scanner(CompiledPolicy policy, ScanOptions? options = null)
    {
        Policy = policy;
        var names = new NameCache();
        _compare = new RecordComparison(policy, options ?? new ScanOptions(), names);
        _scope = new ScanScope(policy);
        _builder = new RecordBuilder(_compare.Options, _compare, names);
        _deletions = new DeletionPass(_scope, _compare.Options, policy.Name);
    }

    public CompiledPolicy Policy { get; }

    private ScanOptions Options => _compare.Options;

    /// <summary>Live counters of the scan in progress (or the last one).</summary>
    public ScanStats Stats { get; private set; } = new();

    /// <summary>Scans every root of the policy.</summary>
    public ScanResult Scan(IBaselineView baseline, CancellationToken ct = default) =>
        ScanFrom(baseline, _scope.AllRoots(), ct);

    /// <summary>Scans below <paramref name="root"/> only (a realtime overflow or a new directory); deletions are judged below it only.</summary>
    public ScanResult ScanSubtree(IBaselineView baseline, byte[] root, CancellationToken ct = default) =>
        ScanFrom(baseline, _scope.StartsBelow(root), ct);

    private ScanResult ScanFrom(IBaselineView baseline, List<byte[]> starts, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        Stats = new ScanStats();
        var generation = Interlocked.Increment(ref s_generation);
        var run = new TreeWalk(_scope, _builder, _compare, Policy.Name, baseline, generation, Stats, ct);
        foreach (var start in starts)
        {
            run.Start(start);
        }
        run.RunWorkers(Math.Max(1, Options.Parallelism));
        var walked = stopwatch.Elapsed;
        _deletions.Run(run, baseline, generation, starts);
        if (Environment.GetEnvironmentVariable("FIM_SCAN_TIMING") == "1")
        {
            Console.Error.WriteLine($"walk {walked.TotalMilliseconds:F0} ms, deletions {(stopwatch.Elapsed - walked).TotalMilliseconds:F0} ms");
        }
        run.Stats.Elapsed = stopwatch.Elapsed;
        return Collect(run, starts);
    }

    /// <summary>
    /// A file the kernel reported created that was deleted before it could be read: it is reported (added, then
    /// deleted, both without a state, since none was ever observed) instead of vanishing silently. Null when the path
    /// is in the baseline, outside the policy's scope, or exists now.
    /// </summary>
    public IReadOnlyList<FileChange>? Transient(IBaselineView baseline, byte[] path)
    {
        if (baseline.TryGet(path, out _) || _scope.RuleInScope(path) is not { } rule || !rule.IsIncluded(path, FileType.Regular))
        {
            return null;
        }
        var err = Posix.StatPath(path, followSymlinks: false, out _);
        if (err != Libc.ENOENT && err != Libc.ENOTDIR)
        {
            return null;
        }
        var now = Options.Time.GetUtcNow();
        return
        [
            new FileChange(ChangeKind.Added, path, null, null, ChangedAttributes.None, Options.Source, now, Policy.Name),
            new FileChange(ChangeKind.Deleted, path, null, null, ChangedAttributes.None, Options.Source, now, Policy.Name),
        ];
    }

    /// <summary>
    /// Observes one path now (a realtime notification): returns the change against the baseline, if any, and the
    /// baseline update to apply. A path outside the policy's scope yields neither.
    /// </summary>
    public (FileChange? Change, BaselineUpdate? Update) Observe(IBaselineView baseline, byte[] path)
    {
        baseline.TryGet(path, out var old);
        var rule = _scope.RuleInScope(path);
        if (rule is null)
        {
            return (null, null);
        }
        var err = Posix.StatPath(path, rule.FollowSymlinks, out var stat);
        FileRecord? current = null;
        if (err == 0 && rule.IsIncluded(path, stat.Type))
        {
            var hasher = Interlocked.Exchange(ref _idleHasher, null) ?? _builder.CreateHasher();
            try
            {
                current = _builder.Build(hasher, Stats, Libc.AT_FDCWD, Posix.Z(path), path, stat, rule, old, out _);
            }
            catch
            {
                // Its digests may hold part of this file: never hand it to the next observation.
                hasher.Dispose();
                throw;
            }
            if (Interlocked.CompareExchange(ref _idleHasher, hasher, null) is not null)
            {
                hasher.Dispose();
            }
        }
        else if (err != 0 && err != Libc.ENOENT && err != Libc.ENOTDIR)
        {
            return (null, null);
        }
        if (current is not null)
        {
            // A scan running now must not take a record observed during it for one that disappeared.
            current.SeenGeneration = Volatile.Read(ref s_generation);
        }
        var change = _compare.Diff(path, old, current, rule, out var update);
        return (change, update);
    }

    /// <summary>Whether a directory's entries are in scope, so it should be watched in realtime.</summary>
    public bool ShouldWatch(byte[] directory) => _scope.ShouldWatch(directory);

    private static ScanResult Collect(TreeWalk walk, List<byte[]> starts)
    {
        var outputs = walk.Outputs.ToList();
        var changes = outputs.SelectMany(o => o.Changes).ToList();
        changes.Sort((a, b) => PathBytes.Compare(a.Path, b.Path));
        return new ScanResult
        {
            Changes = changes,
            Updates = walk.Updates(),
            Issues = outputs.SelectMany(o => o.Issues).OrderBy(i => i.Path, StringComparer.Ordinal).ToList(),
            Stats = walk.Stats,
            Roots = starts,
        };
    }
}

using Fim.Core.Model;

namespace Fim.Core.Policy;

public enum IoPriorityClass
{
    Normal,
    BestEffort,
    Idle,
}

/// <summary>A validated policy in the form the scanner and watcher use: byte roots, flags, compiled globs.</summary>
public sealed class CompiledPolicy
{
    public required string Name { get; init; }
    /// <summary>Rules ordered by root length, longest first, so the first match is the most specific.</summary>
    public required IReadOnlyList<CompiledPathRule> Rules { get; init; }
    public TimeSpan RescanInterval { get; init; } = TimeSpan.FromSeconds(PolicySpec.DefaultRescanSeconds);
    public TimeSpan? FullVerifyInterval { get; init; }
    public bool VerifyFull { get; init; }
    public int EventsPerSecond { get; init; }
    public int? Severity { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public long? BytesPerSecond { get; init; }
    public int? FilesPerSecond { get; init; }
    public int? Nice { get; init; }
    public IoPriorityClass IoClass { get; init; }
    public int Parallelism { get; init; } = Environment.ProcessorCount;
    public IReadOnlyDictionary<string, string>? Selector { get; init; }
    /// <summary>Attach the writer to realtime changes (who-data) where the agent can.</summary>
    public bool WhoData { get; init; } = true;
    /// <summary>Include the writer's command line in who-data.</summary>
    public bool WhoDataCommandLine { get; init; } = true;
    public DiffSettings Diffs { get; init; } = DiffSettings.Default;
    public FlappingSettings? Flapping { get; init; }
    /// <summary>Set when the policy monitors files inside the selected pods' containers; its roots are then container paths.</summary>
    public PodSelection? Pods { get; init; }
    /// <summary>The JSON-lines files to tail; none by default.</summary>
    public IReadOnlyList<CompiledSource> Sources { get; init; } = [];

    /// <summary>
    /// The same policy for a host file system mounted at <paramref name="hostRoot"/> (a DaemonSet sees the node under
    /// /host): roots and absolute globs move below it. Events strip it again (<see cref="Events.EventOrigin.HostRoot"/>).
    /// </summary>
    public CompiledPolicy UnderRoot(string? hostRoot)
    {
        if (string.IsNullOrEmpty(hostRoot) || hostRoot.TrimEnd('/').Length == 0)
        {
            return this;
        }
        var prefix = hostRoot.TrimEnd('/');
        return WithRules([.. Rules.Select(r => r.UnderRoot(prefix)).OrderByDescending(r => r.Root.Length)], Diffs.UnderRoot(prefix));
    }

    /// <summary>
    /// The same policy with <paramref name="absolutePath"/> and everything below it left out of every rule whose root
    /// is above it (the agent's own state must not be monitored: each write would report itself). Returns the roots
    /// that changed; none when no rule covers the path.
    /// </summary>
    public CompiledPolicy Excluding(string absolutePath, out IReadOnlyList<string> excludedFrom)
    {
        var path = PathBytes.FromString(absolutePath.Length > 1 ? absolutePath.TrimEnd('/') : absolutePath);
        var affected = Rules.Where(r => path.Length > r.Root.Length && PathBytes.IsUnder(path, r.Root)).ToList();
        excludedFrom = [.. affected.Select(r => r.RootDisplay)];
        if (affected.Count == 0)
        {
            return this;
        }
        var glob = PathGlob.Literal(PathBytes.ToDisplay(path));
        return WithRules([.. Rules.Select(r => affected.Contains(r) ? r.WithExclude(glob) : r)]);
    }

    private CompiledPolicy WithRules(IReadOnlyList<CompiledPathRule> rules, DiffSettings? diffs = null) =>
        new()
        {
            Name = Name,
            Rules = rules,
            RescanInterval = RescanInterval,
            FullVerifyInterval = FullVerifyInterval,
            VerifyFull = VerifyFull,
            EventsPerSecond = EventsPerSecond,
            Severity = Severity,
            Tags = Tags,
            BytesPerSecond = BytesPerSecond,
            FilesPerSecond = FilesPerSecond,
            Nice = Nice,
            IoClass = IoClass,
            Parallelism = Parallelism,
            Selector = Selector,
            WhoData = WhoData,
            WhoDataCommandLine = WhoDataCommandLine,
            Diffs = diffs ?? Diffs,
            Flapping = Flapping,
            Pods = Pods,
            // Source paths stay as the host names them: the tailer puts the host root in front when it reads.
            Sources = Sources,
        };

    /// <summary>The most specific rule whose root is <paramref name="path"/> or an ancestor of it.</summary>
    public CompiledPathRule? RuleFor(ReadOnlySpan<byte> path)
    {
        foreach (var rule in Rules)
        {
            if (PathBytes.IsUnder(path, rule.Root))
            {
                return rule;
            }
        }
        return null;
    }
}

/// <summary>One monitored root with everything needed to decide, per path, whether and how to record it.</summary>
public sealed class CompiledPathRule
{
    public required byte[] Root { get; init; }
    public string RootDisplay => PathBytes.ToDisplay(Root);
    /// <summary>Deepest level recorded (root = 0, its entries = 1); int.MaxValue when unlimited.</summary>
    public int MaxDepth { get; init; } = int.MaxValue;
    public CheckAttributes Checks { get; init; } = CheckAttributes.Default;
    public IReadOnlyList<HashAlgorithmKind> HashKinds { get; init; } = [HashAlgorithmKind.Sha256];
    public long MaxFileSize { get; init; } = PathRule.DefaultMaxFileSize;
    public bool OneFilesystem { get; init; } = true;
    public bool FollowSymlinks { get; init; }
    public bool Realtime { get; init; } = true;
    public bool ReportDiffs { get; init; }
    public IReadOnlyList<PathGlob> Include { get; init; } = [];
    public IReadOnlyList<PathGlob> Exclude { get; init; } = [];

    /// <summary>A growing file's content is verified by checkpoints (Content/GrowthCheckpoints), never re-hashed whole.</summary>
    public bool WantsHash => (Checks & CheckAttributes.Hash) != 0 && HashKinds.Count > 0 && !IsGrowing;

    public bool IsGrowing => (Checks & CheckAttributes.Growing) != 0;

    internal CompiledPathRule UnderRoot(string prefix) => new()
    {
        Root = PathBytes.FromString(prefix + (Root is [(byte)'/'] ? "" : PathBytes.ToDisplay(Root))),
        MaxDepth = MaxDepth,
        Checks = Checks,
        HashKinds = HashKinds,
        MaxFileSize = MaxFileSize,
        OneFilesystem = OneFilesystem,
        FollowSymlinks = FollowSymlinks,
        Realtime = Realtime,
        ReportDiffs = ReportDiffs,
        Include = [.. Include.Select(g => Rebase(g, prefix))],
        Exclude = [.. Exclude.Select(g => Rebase(g, prefix))],
    };

    internal CompiledPathRule WithExclude(PathGlob glob) => new()
    {
        Root = Root,
        MaxDepth = MaxDepth,
        Checks = Checks,
        HashKinds = HashKinds,
        MaxFileSize = MaxFileSize,
        OneFilesystem = OneFilesystem,
        FollowSymlinks = FollowSymlinks,
        Realtime = Realtime,
        ReportDiffs = ReportDiffs,
        Include = Include,
        Exclude = [.. Exclude, glob],
    };

    private static PathGlob Rebase(PathGlob glob, string prefix) =>
        glob.Pattern.StartsWith('/') ? PathGlob.Compile(prefix + glob.Pattern) : glob;

    /// <summary>Excluded paths are neither recorded nor, for directories, descended.</summary>
    public bool IsExcluded(ReadOnlySpan<byte> path)
    {
        foreach (var glob in Exclude)
        {
            if (glob.IsMatch(path))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>With include globs set, only matching non-directories are recorded; directories are always walked.</summary>
    public bool IsIncluded(ReadOnlySpan<byte> path, FileType type)
    {
        if (Include.Count == 0 || type == FileType.Directory)
        {
            return true;
        }
        foreach (var glob in Include)
        {
            if (glob.IsMatch(path))
            {
                return true;
            }
        }
        return false;
    }
}

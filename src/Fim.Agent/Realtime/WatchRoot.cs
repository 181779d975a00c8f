using Fim.Core.Policy;

namespace Fim.Agent.Realtime;

/// <summary>A directory tree to watch and which of its directories get a watch.</summary>
public sealed record WatchRoot(byte[] Path)
{
    /// <summary>(directory path, depth below the root; the root is 0) -> watch it. Null watches every directory.</summary>
    public Func<byte[], int, bool>? ShouldWatch { get; init; }

    /// <summary>Do not descend into directories on another filesystem than the root's.</summary>
    public bool OneFilesystem { get; init; }

    /// <summary>
    /// The watch set a policy rule asks for: a directory at depth d is watched when its entries (depth d + 1) are
    /// still recorded, and excluded directories are neither watched nor descended.
    /// </summary>
    public static WatchRoot FromRule(CompiledPathRule rule) => new(rule.Root)
    {
        ShouldWatch = (path, depth) => depth == 0 || (depth < rule.MaxDepth && !rule.IsExcluded(path)),
        OneFilesystem = rule.OneFilesystem,
    };

    internal bool Allows(byte[] directory, int depth) => ShouldWatch is null || ShouldWatch(directory, depth);
}

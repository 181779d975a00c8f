namespace Fim.Agent.Packages;

/// <summary>
/// The host paths the package indexes keep: those at or below the roots the agent monitors. An event only ever names a
/// path below one of its policy's roots, and lookups are exact, so a path outside every root is never asked for; a
/// host's dpkg database lists 100,000+ paths, and an agent watching a few trees need not hold them all in memory.
/// Roots are host paths (as events name them), compared as whole path components: /usr covers /usr and /usr/bin/ls,
/// never /usr2.
/// </summary>
public sealed class PackageScope : IEquatable<PackageScope>
{
    private readonly string[] _roots;

    /// <param name="roots">Absolute host paths; a trailing slash is ignored, and a root below another adds nothing.</param>
    public PackageScope(IEnumerable<string> roots)
    {
        var normal = roots
            .Where(r => r.Length > 0)
            .Select(r => r.Length > 1 ? r.TrimEnd('/') : r)
            .Select(r => r.Length == 0 ? "/" : r)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        // Sorted, a root's descendants follow it; keep only the roots that no kept root covers.
        var kept = new List<string>(normal.Count);
        foreach (var root in normal)
        {
            if (!kept.Any(k => Under(root, k)))
            {
                kept.Add(root);
            }
        }
        _roots = [.. kept];
    }

    /// <summary>Every path (the root of the file system).</summary>
    public static PackageScope Everything { get; } = new(["/"]);

    /// <summary>No path: nothing is monitored yet.</summary>
    public static PackageScope Nothing { get; } = new([]);

    /// <summary>The roots, sorted, none below another.</summary>
    public IReadOnlyList<string> Roots => _roots;

    public bool IsEverything => _roots is ["/"];

    public bool IsEmpty => _roots.Length == 0;

    /// <summary>Whether <paramref name="path"/> is one of the roots or below one.</summary>
    public bool Covers(ReadOnlySpan<char> path)
    {
        foreach (var root in _roots)
        {
            if (Under(path, root))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The roots of <paramref name="policy"/>'s rules, as host paths (the policy before it is put under a host root).</summary>
    public static PackageScope Of(Core.Policy.CompiledPolicy policy) => new(policy.Rules.Select(r => r.RootDisplay));

    /// <summary>The union of <paramref name="scopes"/>.</summary>
    public static PackageScope Union(IEnumerable<PackageScope> scopes) => new(scopes.SelectMany(s => s._roots));

    public bool Equals(PackageScope? other) => other is not null && _roots.AsSpan().SequenceEqual(other._roots);

    public override bool Equals(object? obj) => Equals(obj as PackageScope);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var root in _roots)
        {
            hash.Add(root, StringComparer.Ordinal);
        }
        return hash.ToHashCode();
    }

    public override string ToString() => _roots.Length == 0 ? "(nothing)" : string.Join(", ", _roots);

    private static bool Under(ReadOnlySpan<char> path, string root) =>
        root == "/"
            ? path.Length > 0 && path[0] == '/'
            : path.StartsWith(root, StringComparison.Ordinal) && (path.Length == root.Length || path[root.Length] == '/');
}

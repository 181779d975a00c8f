using Fim.Core.Model;
using Fim.Core.Native;
using Fim.Core.Policy;

namespace Fim.Core.Scanning;

/// <summary>
/// The scope and rule-selection stage of a scan: which compiled rule governs a path, whether the path is inside
/// that rule's scope (depth, excluded ancestors), where walks start, and which entries are nested roots that
/// their own rule scans.
/// </summary>
internal sealed class ScanScope
{
    private readonly CompiledPolicy _policy;
    private readonly HashSet<byte[]> _ruleRoots;
    private readonly HashSet<byte[]>.AlternateLookup<ReadOnlySpan<byte>> _rootLookup;

    public ScanScope(CompiledPolicy policy)
    {
        _policy = policy;
        _ruleRoots = new(policy.Rules.Select(r => r.Root), PathComparer.Instance);
        _rootLookup = _ruleRoots.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Every root of the policy: where a full scan starts.</summary>
    public List<byte[]> AllRoots() => _policy.Rules.Select(r => r.Root).ToList();

    /// <summary>Where a scan of <paramref name="root"/> starts: the root itself and every rule root nested below it.</summary>
    public List<byte[]> StartsBelow(byte[] root)
    {
        var starts = new List<byte[]> { root };
        starts.AddRange(_policy.Rules.Select(r => r.Root).Where(r => PathBytes.IsUnder(r, root) && r.Length > root.Length));
        return starts;
    }

    /// <summary>The rule that governs <paramref name="path"/> when it is in that rule's scope; otherwise null.</summary>
    public CompiledPathRule? RuleInScope(byte[] path)
    {
        var rule = _policy.RuleFor(path);
        return rule is not null && InScope(rule, path) ? rule : null;
    }

    /// <summary>A walked entry that is some rule's root is scanned under that rule, not its parent's.</summary>
    public bool IsNestedRoot(ReadOnlySpan<byte> path) => _ruleRoots.Count > 1 && _rootLookup.Contains(path);

    /// <summary>Whether a directory's entries are in scope, so it should be watched in realtime.</summary>
    public bool ShouldWatch(byte[] directory)
    {
        var rule = _policy.RuleFor(directory);
        return rule is not null && rule.Realtime && InScope(rule, directory) && Depth(rule, directory) < rule.MaxDepth;
    }

    /// <summary>Whether a baseline record still belongs to the policy (a policy change can put it out of scope).</summary>
    public bool Covers(byte[] path, FileType type)
    {
        var rule = _policy.RuleFor(path);
        return rule is not null && InScope(rule, path) && rule.IsIncluded(path, type);
    }

    public static bool InScope(CompiledPathRule rule, ReadOnlySpan<byte> path)
    {
        if (path.Length == rule.Root.Length)
        {
            return true;
        }
        if (Depth(rule, path) > rule.MaxDepth)
        {
            return false;
        }
        // An entry is out of scope if it or any directory between it and the root is excluded.
        for (var end = rule.Root.Length + 1; end <= path.Length; end++)
        {
            if ((end == path.Length || path[end] == (byte)'/') && rule.IsExcluded(path[..end]))
            {
                return false;
            }
        }
        return true;
    }

    public static int Depth(CompiledPathRule rule, ReadOnlySpan<byte> path) =>
        path.Length == rule.Root.Length ? 0 : path[(rule.Root.Length == 1 ? 1 : rule.Root.Length + 1)..].Count((byte)'/') + 1;
}

using Fim.Core.Model;

namespace Fim.Core.Policy;

/// <summary>Validates one <see cref="PathRule"/> and turns it into the <see cref="CompiledPathRule"/> the scanner uses.</summary>
internal static class PathRuleCompiler
{
    public const string AllChecksAlias = "all";

    // "growing" changes what a change is (appends are not), so "all" never implies it.
    private static readonly CheckAttributes AllChecks = CheckAttributeNames.All.Aggregate(
        CheckAttributes.None,
        (all, name) => CheckAttributeNames.TryParse(name, out var flag) ? all | flag : all) & ~CheckAttributes.Growing;

    /// <summary>The compiled rule, or null when its path is unusable (the problem is then in <paramref name="problems"/>).</summary>
    public static CompiledPathRule? Compile(PathRule rule, string field, ProblemList problems)
    {
        var root = NormalizeRoot(rule.Path, FieldPaths.Member(field, "path"), problems);
        var compiled = new CompiledPathRule
        {
            Root = root is null ? [] : PathBytes.FromString(root),
            MaxDepth = MaxDepth(rule, field, problems),
            Checks = Checks(rule.Check ?? [], FieldPaths.Member(field, "check"), problems),
            HashKinds = HashKinds(rule.Hashes ?? [], FieldPaths.Member(field, "hashes"), problems),
            MaxFileSize = MaxFileSize(rule.MaxFileSize, FieldPaths.Member(field, "maxFileSize"), problems),
            OneFilesystem = rule.OneFilesystem,
            FollowSymlinks = rule.FollowSymlinks,
            Realtime = rule.Realtime,
            ReportDiffs = rule.ReportDiffs,
            Include = Globs(rule.Include ?? [], FieldPaths.Member(field, "include"), problems),
            Exclude = Globs(rule.Exclude ?? [], FieldPaths.Member(field, "exclude"), problems),
        };
        return root is null ? null : compiled;
    }

    /// <summary>The absolute, normalised form of a policy path, or null (with a problem) when it is not usable.</summary>
    public static string? NormalizeRoot(string? path, string field, ProblemList problems)
    {
        if (string.IsNullOrEmpty(path))
        {
            problems.Add(field, "must not be empty");
            return null;
        }
        if (path.Contains('\0'))
        {
            problems.Add(field, "must not contain a NUL character");
            return null;
        }
        if (!path.StartsWith('/'))
        {
            problems.Add(field, $"must be an absolute path, got '{path}'");
            return null;
        }
        return PathBytes.Normalize(path);
    }

    private static int MaxDepth(PathRule rule, string field, ProblemList problems)
    {
        var depthField = FieldPaths.Member(field, "maxDepth");
        if (rule.MaxDepth is < 0)
        {
            problems.Add(depthField, $"must be 0 or more, got {rule.MaxDepth}");
            return 0;
        }
        if (!rule.Recursive)
        {
            if (rule.MaxDepth is > 1)
            {
                problems.Add(depthField, $"is {rule.MaxDepth} but recursive is false, which means a depth of 1; drop one of them");
            }
            return Math.Min(rule.MaxDepth ?? 1, 1);
        }
        return rule.MaxDepth ?? int.MaxValue;
    }

    private static CheckAttributes Checks(List<string> names, string field, ProblemList problems)
    {
        if (names.Count == 0)
        {
            return CheckAttributes.Default;
        }
        var checks = CheckAttributes.None;
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i];
            if (string.Equals(name, AllChecksAlias, StringComparison.OrdinalIgnoreCase))
            {
                checks |= AllChecks;
            }
            else if (CheckAttributeNames.TryParse(name, out var flag))
            {
                checks |= flag;
            }
            else
            {
                problems.Add(FieldPaths.Item(field, i), $"unknown attribute '{name}'{Suggest(name, CheckAttributeNames.All)}; known: {AllChecksAlias}, {string.Join(", ", CheckAttributeNames.All)}");
            }
        }
        if ((checks & CheckAttributes.Growing) != 0)
        {
            // The growth verdict needs to see the size (growth, truncation), the inode (rotation, replacement) and the
            // times (a same-size rewrite moves them).
            checks |= CheckAttributes.Size | CheckAttributes.Inode | CheckAttributes.Mtime | CheckAttributes.Ctime;
        }
        return checks;
    }

    private static List<HashAlgorithmKind> HashKinds(List<string> names, string field, ProblemList problems)
    {
        if (names.Count == 0)
        {
            return [HashAlgorithmKind.Sha256];
        }
        var kinds = new List<HashAlgorithmKind>();
        for (var i = 0; i < names.Count; i++)
        {
            if (HashAlgorithmNames.TryParse(names[i], out var kind))
            {
                if (!kinds.Contains(kind))
                {
                    kinds.Add(kind);
                }
            }
            else
            {
                var known = Enumerable.Range(0, HashAlgorithmNames.Count).Select(k => ((HashAlgorithmKind)k).ToName()).ToList();
                problems.Add(FieldPaths.Item(field, i), $"unknown hash algorithm '{names[i]}'{Suggest(names[i], known)}; known: {string.Join(", ", known)}");
            }
        }
        return kinds;
    }

    private static long MaxFileSize(string? text, string field, ProblemList problems)
    {
        if (text is null)
        {
            return PathRule.DefaultMaxFileSize;
        }
        if (!ByteSize.TryParse(text, out var size, out var error))
        {
            problems.Add(field, error);
            return PathRule.DefaultMaxFileSize;
        }
        if (size < 0)
        {
            problems.Add(field, $"must be 0 or more, got '{text}'");
        }
        return size;
    }

    private static List<PathGlob> Globs(List<string> patterns, string field, ProblemList problems)
    {
        var globs = new List<PathGlob>(patterns.Count);
        for (var i = 0; i < patterns.Count; i++)
        {
            try
            {
                globs.Add(PathGlob.Compile(patterns[i]));
            }
            catch (FormatException e)
            {
                problems.Add(FieldPaths.Item(field, i), e.Message);
            }
        }
        return globs;
    }

    private static string Suggest(string typed, IEnumerable<string> known) =>
        NearestName.Find(typed, known) is { } near ? $" (did you mean '{near}'?)" : "";
}

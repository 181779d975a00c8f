namespace Fim.Core.Policy;

/// <summary>
/// A compiled <see cref="SourceSpec"/>: the directory (literal) and the file-name glob within it. Only the file name may
/// hold wildcards: the agent lists one directory per source, never a tree.
/// </summary>
public sealed record CompiledSource(string Directory, PathGlob FileName, string Pattern, string Format)
{
    public bool Matches(string fileName) => FileName.IsMatch(System.Text.Encoding.UTF8.GetBytes(fileName));
}

/// <summary>Checks and compiles a policy's sources, naming the entry and field at fault.</summary>
internal static class Sources
{
    /// <summary>Formats a source may name (the decoders of Fim.Core.Sources).</summary>
    public static IReadOnlyList<string> Formats => Fim.Contracts.SecurityRecord.Formats;

    public static List<CompiledSource> Compile(List<SourceSpec> specs, ProblemList problems)
    {
        var compiled = new List<CompiledSource>(specs.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < specs.Count; i++)
        {
            var field = FieldPaths.Item("sources", i);
            if (specs[i] is not { } spec)
            {
                problems.Add(field, "must be a mapping with 'path' and 'format'");
                continue;
            }
            if (!Formats.Contains(spec.Format, StringComparer.Ordinal))
            {
                problems.Add(FieldPaths.Member(field, "format"), $"must be one of {string.Join(", ", Formats)}, got '{spec.Format}'");
            }
            var path = spec.Path;
            if (!path.StartsWith('/') || path.EndsWith('/'))
            {
                problems.Add(FieldPaths.Member(field, "path"), $"must be an absolute path to files (a glob in the file name is allowed), got '{path}'");
                continue;
            }
            var slash = path.LastIndexOf('/');
            var directory = slash == 0 ? "/" : path[..slash];
            var name = path[(slash + 1)..];
            if (directory.IndexOfAny(['*', '?', '[', '{']) >= 0)
            {
                problems.Add(FieldPaths.Member(field, "path"), $"only the file name may hold wildcards; '{directory}' has one");
                continue;
            }
            if (!seen.Add(path))
            {
                problems.Add(FieldPaths.Member(field, "path"), $"'{path}' is listed twice");
                continue;
            }
            PathGlob glob;
            try
            {
                glob = PathGlob.Compile(name);
            }
            catch (FormatException e)
            {
                problems.Add(FieldPaths.Member(field, "path"), e.Message);
                continue;
            }
            compiled.Add(new CompiledSource(directory, glob, path, spec.Format));
        }
        return compiled;
    }
}

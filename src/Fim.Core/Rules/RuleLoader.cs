using System.Text;
using Fim.Core.Model;
using Fim.Core.Policy;

namespace Fim.Core.Rules;

/// <summary>
/// Reads user rule files (YAML or JSON) strictly, like <see cref="PolicyLoader"/>: an unknown key, a value of the
/// wrong type, a level outside 0-15, an unknown change kind or attribute, a bad glob or a duplicate id is a
/// <see cref="PolicyException"/> naming the file, line, column and field. Every problem is reported, not only the first.
/// </summary>
public static class RuleLoader
{
    public const int MaxFileBytes = 4 * 1024 * 1024;
    public const int MaxLevel = 15;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The rule set of these files, in order, followed by the defaults (first match wins).</summary>
    public static RuleSet LoadRuleSet(IEnumerable<string> files)
    {
        var rules = new List<AlertRule>();
        var firstSeen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var loaded = LoadFile(file);
            foreach (var (rule, line) in loaded)
            {
                if (firstSeen.TryGetValue(rule.Id, out var where))
                {
                    throw new PolicyException(file, new PolicyProblem("id", $"duplicate rule id '{rule.Id}' (first defined in {where})", line));
                }
                firstSeen.Add(rule.Id, $"{file}:{line}");
                rules.Add(rule);
            }
        }
        return RuleSet.WithUserRules(rules);
    }

    /// <summary>The rules of one file with the line each starts at.</summary>
    public static IReadOnlyList<(AlertRule Rule, int Line)> LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return LoadYaml(ReadText(path), path);
    }

    public static IReadOnlyList<(AlertRule Rule, int Line)> LoadYaml(string yaml, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(sourceName);
        var root = YamlDocumentReader.Read(yaml, sourceName);
        if (root is null or DocScalar { IsNull: true })
        {
            return [];
        }
        if (root is not DocMapping mapping)
        {
            throw new PolicyException(sourceName, new PolicyProblem(null, "the top level of a rule file must be a mapping with the key 'rules'", root.Line, root.Column));
        }
        var positions = new PolicySourceMap(sourceName);
        // Binding problems (an unknown key, a wrong type) are reported together with the rules' own, in file order.
        var (spec, bindProblems) = PolicyBinder.BindCollecting(mapping, positions, PolicyModelJson.Default.RuleFileSpec);
        return Compile(spec, positions, bindProblems);
    }

    private static List<(AlertRule, int)> Compile(RuleFileSpec spec, PolicySourceMap positions, IReadOnlyList<PolicyProblem> bindProblems)
    {
        var problems = new ProblemList(positions);
        problems.AddRange(bindProblems);
        var rules = new List<(AlertRule, int)>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Rules.Count; i++)
        {
            var r = spec.Rules[i];
            var at = $"rules[{i}]";
            var line = positions.Find(at)?.Line ?? 0;
            if (string.IsNullOrWhiteSpace(r.Id))
            {
                problems.Add($"{at}.id", "is required (a unique rule id such as \"100001\")");
            }
            else if (ids.TryGetValue(r.Id, out var firstLine))
            {
                problems.Add($"{at}.id", $"duplicate rule id '{r.Id}' (first defined at line {firstLine})");
            }
            else
            {
                ids.Add(r.Id, line);
            }
            if (r.Level is null)
            {
                problems.Add($"{at}.level", $"is required (0 silences, 1-{MaxLevel} raise an alert)");
            }
            else if (r.Level is < 0 or > MaxLevel)
            {
                problems.Add($"{at}.level", $"must be 0..{MaxLevel}, got {r.Level}");
            }
            var kinds = new List<ChangeKind>();
            for (var k = 0; k < r.Kinds.Count; k++)
            {
                if (ChangeKindNames.TryParse(r.Kinds[k], out var kind))
                {
                    kinds.Add(kind);
                }
                else
                {
                    problems.Add($"{at}.kinds[{k}]", $"unknown change kind '{r.Kinds[k]}'; allowed: {string.Join(", ", Enum.GetValues<ChangeKind>().Select(x => x.ToName()))}");
                }
            }
            var globs = new List<PathGlob>();
            for (var p = 0; p < r.Paths.Count; p++)
            {
                try
                {
                    globs.Add(PathGlob.Compile(r.Paths[p]));
                }
                catch (FormatException e)
                {
                    problems.Add($"{at}.paths[{p}]", e.Message);
                }
            }
            for (var a = 0; a < r.Attributes.Count; a++)
            {
                if (!IsAttributeName(r.Attributes[a]))
                {
                    problems.Add($"{at}.attributes[{a}]", $"unknown attribute '{r.Attributes[a]}'; allowed: {string.Join(", ", AttributeNames)}");
                }
            }
            var package = PackageCondition.Any;
            if (r.Package is not null && !PackageConditions.TryParse(r.Package, out package))
            {
                problems.Add($"{at}.package", $"unknown package condition '{r.Package}'; allowed: update, unverified, unpackaged, any");
            }
            for (var f = 0; f < r.Formats.Count; f++)
            {
                if (!Fim.Contracts.SecurityRecord.Formats.Contains(r.Formats[f], StringComparer.Ordinal))
                {
                    problems.Add($"{at}.formats[{f}]", $"unknown format '{r.Formats[f]}'; allowed: {string.Join(", ", Fim.Contracts.SecurityRecord.Formats)}");
                }
            }
            var fields = new List<FieldCondition>();
            for (var f = 0; f < r.Fields.Count; f++)
            {
                if (FieldConditions.Compile(r.Fields[f], out var condition) is { } problem)
                {
                    problems.Add($"{at}.fields[{f}]", problem);
                }
                else
                {
                    fields.Add(condition!);
                }
            }
            rules.Add((new AlertRule
            {
                Id = r.Id,
                Level = r.Level ?? 0,
                Description = r.Description,
                Kinds = kinds,
                Paths = globs,
                Attributes = [.. r.Attributes.Select(x => x.ToLowerInvariant())],
                Labels = new Dictionary<string, string>(r.Labels, StringComparer.Ordinal),
                Compliance = [.. r.Compliance],
                Tags = [.. r.Tags],
                Package = package,
                Formats = [.. r.Formats],
                Fields = fields,
                Notify = r.Notify ?? true,
            }, line));
        }
        problems.ThrowIfAny(positions.SourceName, byLine: true);
        return rules;
    }

    /// <summary>The names a change lists in <see cref="FileChange.Changed"/>.</summary>
    public static IReadOnlyList<string> AttributeNames => ChangedAttributeNames.All;

    private static bool IsAttributeName(string name) => AttributeNames.Contains(name, StringComparer.OrdinalIgnoreCase);

    private static string ReadText(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (Directory.Exists(path))
            {
                throw Unreadable(path, "it is a directory, not a file");
            }
            if (!info.Exists)
            {
                throw Unreadable(path, "the file does not exist");
            }
            if (info.Length > MaxFileBytes)
            {
                throw Unreadable(path, $"it is larger than {MaxFileBytes / (1024 * 1024)} MiB, which no rule file needs");
            }
            var bytes = File.ReadAllBytes(path);
            var skip = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
            return StrictUtf8.GetString(bytes, skip, bytes.Length - skip);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Unreadable(path, "permission denied", e);
        }
        catch (DecoderFallbackException e)
        {
            throw Unreadable(path, $"it is not UTF-8 text (bad byte at offset {e.Index})", e);
        }
        catch (IOException e)
        {
            throw Unreadable(path, e.Message, e);
        }
    }

    private static PolicyException Unreadable(string path, string reason, Exception? inner = null) =>
        new(path, new PolicyProblem(null, $"cannot read the rule file: {reason}"), inner);
}

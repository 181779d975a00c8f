namespace Fim.Contracts;

/// <summary>
/// The kubectl text form of a <see cref="LabelSelector"/>: requirements separated by commas, each one of
/// <c>key=value</c>, <c>key==value</c>, <c>key!=value</c>, <c>key in (a,b)</c>, <c>key notin (a,b)</c>, <c>key</c>
/// (exists) or <c>!key</c> (does not exist). Empty text selects everything.
/// </summary>
public static class LabelSelectorText
{
    /// <summary>The selector, or null with the first problem, naming the requirement that has it.</summary>
    public static LabelSelector? Parse(string? text, out string? problem)
    {
        problem = null;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var expressions = new List<LabelRequirement>();
        foreach (var raw in SplitRequirements(text ?? "", out problem))
        {
            var part = raw.Trim();
            problem = part.Length == 0 ? "empty requirement (two commas, or a comma at an end)" : Add(part, labels, expressions);
            if (problem is not null)
            {
                return null;
            }
        }
        if (problem is not null)
        {
            return null;
        }
        return new LabelSelector
        {
            MatchLabels = labels.Count == 0 ? null : labels,
            MatchExpressions = expressions.Count == 0 ? null : expressions,
        };
    }

    private static string? Add(string part, Dictionary<string, string> labels, List<LabelRequirement> expressions)
    {
        if (part.StartsWith('!'))
        {
            var key = part[1..].Trim();
            return KeyProblem(key, part) ?? Added(expressions, new LabelRequirement(key, "DoesNotExist", null));
        }
        var ne = part.IndexOf("!=", StringComparison.Ordinal);
        if (ne >= 0)
        {
            var (key, value) = (part[..ne].Trim(), part[(ne + 2)..].Trim());
            return KeyProblem(key, part) ?? ValueProblem(value, part) ?? Added(expressions, new LabelRequirement(key, "NotIn", [value]));
        }
        var eq = part.IndexOf('=');
        if (eq >= 0)
        {
            var key = part[..eq].Trim();
            var value = part[(eq + 1)..].TrimStart('=').Trim();
            if ((KeyProblem(key, part) ?? ValueProblem(value, part)) is { } p)
            {
                return p;
            }
            if (labels.TryGetValue(key, out var other) && other != value)
            {
                return $"'{part}': '{key}' is already required to be '{other}'";
            }
            labels[key] = value;
            return null;
        }
        var words = part.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 1)
        {
            return KeyProblem(words[0], part) ?? Added(expressions, new LabelRequirement(words[0], "Exists", null));
        }
        var rest = words[1];
        var op = rest.StartsWith("in", StringComparison.Ordinal) ? "In" : rest.StartsWith("notin", StringComparison.Ordinal) ? "NotIn" : null;
        if (op is null)
        {
            return $"'{part}': expected =, ==, !=, in (...) or notin (...) after '{words[0]}'";
        }
        var list = rest[(op == "In" ? 2 : 5)..].Trim();
        if (!list.StartsWith('(') || !list.EndsWith(')'))
        {
            return $"'{part}': the values of {op.ToLowerInvariant()} must be in parentheses, e.g. {words[0]} {op.ToLowerInvariant()} (a,b)";
        }
        var values = list[1..^1].Split(',', StringSplitOptions.TrimEntries);
        if (values.Length == 0 || values.Any(v => v.Length == 0))
        {
            return $"'{part}': an empty value in the list";
        }
        return KeyProblem(words[0], part) ?? values.Select(v => ValueProblem(v, part)).FirstOrDefault(p => p is not null)
            ?? Added(expressions, new LabelRequirement(words[0], op, values));
    }

    private static string? Added(List<LabelRequirement> expressions, LabelRequirement requirement)
    {
        expressions.Add(requirement);
        return null;
    }

    /// <summary>A label key: an optional DNS prefix and '/', then 1..63 of [A-Za-z0-9._-] starting and ending alphanumeric.</summary>
    private static string? KeyProblem(string key, string part)
    {
        if (key.Length == 0)
        {
            return $"'{part}': a label key is missing";
        }
        var slash = key.LastIndexOf('/');
        var name = slash >= 0 ? key[(slash + 1)..] : key;
        if (slash == 0 || (slash > 0 && (slash > 253 || !key[..slash].All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-'))))
        {
            return $"'{part}': '{key}' has an invalid prefix before '/'";
        }
        return NameProblem(name, part, "key");
    }

    private static string? ValueProblem(string value, string part) => value.Length == 0 ? null : NameProblem(value, part, "value");

    private static string? NameProblem(string name, string part, string what) =>
        name.Length is 0 or > 63 ? $"'{part}': a label {what} must be 1 to 63 characters"
        : !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') ? $"'{part}': label {what} '{name}' may hold only letters, digits, '.', '_' and '-'"
        : !char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]) ? $"'{part}': label {what} '{name}' must start and end with a letter or digit"
        : null;

    /// <summary>Splits at commas outside parentheses.</summary>
    private static List<string> SplitRequirements(string text, out string? problem)
    {
        problem = null;
        var parts = new List<string>();
        if (text.Trim().Length == 0)
        {
            return parts;
        }
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    parts.Add(text[start..i]);
                    start = i + 1;
                    break;
                default:
                    break;
            }
            if (depth is < 0 or > 1)
            {
                problem = "unbalanced parentheses";
                return [];
            }
        }
        if (depth != 0)
        {
            problem = "unbalanced parentheses";
            return [];
        }
        parts.Add(text[start..]);
        return parts;
    }
}

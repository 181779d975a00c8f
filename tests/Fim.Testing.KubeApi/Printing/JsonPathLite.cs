using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Printing;

/// <summary>
/// The JSONPath subset used by additionalPrinterColumns: <c>.a.b</c>, <c>['a']</c>, <c>[n]</c>, <c>[*]</c>, <c>.*</c>,
/// and filters <c>[?(@.x.y=="v")]</c>, <c>[?(@.x!="v")]</c>, <c>[?(@.x)]</c>; an optional <c>{...}</c> wrapper
/// and leading <c>$</c>. No recursive descent, unions, slices or functions.
/// </summary>
public static class JsonPathLite
{
    public static IReadOnlyList<JsonNode?> Evaluate(JsonNode? root, string path)
    {
        var p = path.Trim();
        if (p.StartsWith('{') && p.EndsWith('}'))
        {
            p = p[1..^1].Trim();
        }

        if (p.StartsWith('$'))
        {
            p = p[1..];
        }

        IReadOnlyList<JsonNode?> current = [root];
        var i = 0;
        while (i < p.Length)
        {
            if (p[i] == '.')
            {
                i++;
                var start = i;
                while (i < p.Length && p[i] != '.' && p[i] != '[')
                {
                    i++;
                }

                var name = p[start..i];
                current = name == "*" ? current.SelectMany(Children).ToList() : current.Select(n => Child(n, name)).Where(n => n is not null).ToList();
            }
            else if (p[i] == '[')
            {
                var end = FindClose(p, i);
                var inner = p[(i + 1)..end].Trim();
                i = end + 1;
                current = current.SelectMany(n => Bracket(n, inner)).ToList();
            }
            else
            {
                throw new FormatException($"unexpected '{p[i]}' in JSONPath \"{path}\"");
            }
        }

        return current;
    }

    private static int FindClose(string p, int open)
    {
        var depth = 0;
        char? quote = null;
        for (var i = open; i < p.Length; i++)
        {
            var c = p[i];
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }

                continue;
            }

            switch (c)
            {
                case '\'' or '"': quote = c; break;
                case '[': depth++; break;
                case ']':
                    depth--;
                    if (depth == 0)
                    {
                        return i;
                    }

                    break;
            }
        }

        throw new FormatException($"unclosed '[' in JSONPath \"{p}\"");
    }

    private static JsonNode? Child(JsonNode? node, string name) => node is JsonObject o ? o[name] : null;

    private static IEnumerable<JsonNode?> Children(JsonNode? node) => node switch
    {
        JsonObject o => o.Select(kv => kv.Value),
        JsonArray a => a,
        _ => [],
    };

    private static IEnumerable<JsonNode?> Bracket(JsonNode? node, string inner)
    {
        if (inner == "*")
        {
            return Children(node);
        }

        if ((inner.StartsWith('\'') && inner.EndsWith('\'')) || (inner.StartsWith('"') && inner.EndsWith('"')))
        {
            var v = Child(node, inner[1..^1]);
            return v is null ? [] : [v];
        }

        if (int.TryParse(inner, out var index))
        {
            if (node is JsonArray a)
            {
                if (index < 0)
                {
                    index += a.Count;
                }

                return index >= 0 && index < a.Count ? [a[index]] : [];
            }

            return [];
        }

        if (inner.StartsWith("?(", StringComparison.Ordinal) && inner.EndsWith(')'))
        {
            var filter = inner[2..^1].Trim();
            return Children(node).Where(item => FilterMatches(item, filter));
        }

        throw new FormatException($"unsupported JSONPath expression [{inner}]");
    }

    private static bool FilterMatches(JsonNode? item, string filter)
    {
        foreach (var op in new[] { "==", "!=" })
        {
            var idx = filter.IndexOf(op, StringComparison.Ordinal);
            if (idx > 0)
            {
                var left = Resolve(item, filter[..idx].Trim());
                var right = filter[(idx + 2)..].Trim();
                var leftText = left.Count == 0 ? null : Text(left[0]);
                var rightText = (right.StartsWith('"') || right.StartsWith('\'')) && right.Length >= 2 ? right[1..^1] : right;
                var equal = leftText is not null && leftText == rightText;
                return op == "==" ? equal : leftText is not null && !equal;
            }
        }

        return Resolve(item, filter).Count > 0;
    }

    private static IReadOnlyList<JsonNode?> Resolve(JsonNode? item, string expr)
    {
        if (!expr.StartsWith('@'))
        {
            throw new FormatException($"unsupported filter operand \"{expr}\"");
        }

        return Evaluate(item, expr[1..]);
    }

    /// <summary>How kubectl's JSONPath printer renders a value.</summary>
    public static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(Json.Compact),
    };
}

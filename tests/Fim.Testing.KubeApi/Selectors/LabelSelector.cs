using System.Globalization;
using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Selectors;

/// <summary>
/// A parsed <c>labelSelector</c> query: <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k in (a,b)</c>,
/// <c>k notin (a,b)</c>, <c>k</c>, <c>!k</c>, <c>k&gt;n</c>, <c>k&lt;n</c>, joined by commas (AND).
/// </summary>
public sealed class LabelSelector
{
    private enum Op { Equals, NotEquals, In, NotIn, Exists, DoesNotExist, GreaterThan, LessThan }

    private sealed record Requirement(string Key, Op Operator, IReadOnlyList<string> Values);

    private readonly List<Requirement> _requirements;

    private LabelSelector(List<Requirement> requirements) => _requirements = requirements;

    public static LabelSelector Everything { get; } = new([]);

    public bool IsEmpty => _requirements.Count == 0;

    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var requirements = new List<Requirement>();
        foreach (var part in SplitTopLevel(text))
        {
            var p = part.Trim();
            if (p.Length == 0)
            {
                throw Fail($"found '', expected: !, identifier, or 'end of string'");
            }

            requirements.Add(ParseRequirement(p));
        }

        return new LabelSelector(requirements);
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var r in _requirements)
        {
            var has = labels.TryGetValue(r.Key, out var value);
            var ok = r.Operator switch
            {
                Op.Equals => has && value == r.Values[0],
                Op.NotEquals => !has || value != r.Values[0],
                Op.In => has && r.Values.Contains(value!),
                Op.NotIn => !has || !r.Values.Contains(value!),
                Op.Exists => has,
                Op.DoesNotExist => !has,
                Op.GreaterThan => has && long.TryParse(value, out var g) && g > long.Parse(r.Values[0], CultureInfo.InvariantCulture),
                Op.LessThan => has && long.TryParse(value, out var l) && l < long.Parse(r.Values[0], CultureInfo.InvariantCulture),
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(': depth++; break;
                case ')': depth--; break;
                case ',' when depth == 0:
                    yield return text[start..i];
                    start = i + 1;
                    break;
            }
        }

        yield return text[start..];
    }

    private static Requirement ParseRequirement(string p)
    {
        if (p.StartsWith('!'))
        {
            return new Requirement(Key(p[1..].Trim()), Op.DoesNotExist, []);
        }

        var lower = p;
        foreach (var (word, op) in new[] { (" notin ", Op.NotIn), (" in ", Op.In) })
        {
            var idx = lower.IndexOf(word, StringComparison.Ordinal);
            if (idx > 0)
            {
                var key = Key(p[..idx].Trim());
                var rest = p[(idx + word.Length)..].Trim();
                if (!rest.StartsWith('(') || !rest.EndsWith(')'))
                {
                    throw Fail($"found '{rest}', expected: '('");
                }

                var values = rest[1..^1].Split(',').Select(v => v.Trim()).ToList();
                foreach (var v in values)
                {
                    Value(v);
                }

                return new Requirement(key, op, values);
            }
        }

        foreach (var (token, op) in new[] { ("!=", Op.NotEquals), ("==", Op.Equals), ("=", Op.Equals), (">", Op.GreaterThan), ("<", Op.LessThan) })
        {
            var idx = p.IndexOf(token, StringComparison.Ordinal);
            if (idx > 0)
            {
                var key = Key(p[..idx].Trim());
                var value = Value(p[(idx + token.Length)..].Trim());
                if (op is Op.GreaterThan or Op.LessThan && !long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                {
                    throw Fail($"for 'Gt', 'Lt' operators, the value must be an integer");
                }

                return new Requirement(key, op, [value]);
            }
        }

        return new Requirement(Key(p), Op.Exists, []);
    }

    private static string Key(string key)
    {
        if (key.Length == 0 || key.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or ',' or '=' or '!'))
        {
            throw Fail($"invalid label key \"{key}\"");
        }

        return key;
    }

    private static string Value(string value)
    {
        if (value.Length > 63 || value.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            throw Fail($"invalid label value: \"{value}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'");
        }

        return value;
    }

    private static ApiError Fail(string detail) => ApiError.BadRequest("unable to parse requirement: " + detail);
}

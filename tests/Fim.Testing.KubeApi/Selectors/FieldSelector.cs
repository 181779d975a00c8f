using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Selectors;

/// <summary>
/// A parsed <c>fieldSelector</c>: <c>path=value</c>, <c>path==value</c>, <c>path!=value</c> joined by commas.
/// Any dotted field path is accepted (the real server only allows a per-type list such as
/// metadata.name and metadata.namespace); a missing field compares as "".
/// </summary>
public sealed class FieldSelector
{
    private sealed record Term(string Path, bool Equal, string Value);

    private readonly List<Term> _terms;

    private FieldSelector(List<Term> terms) => _terms = terms;

    public static FieldSelector Everything { get; } = new([]);

    public bool IsEmpty => _terms.Count == 0;

    /// <summary>The name this selector pins (<c>metadata.name=x</c>), if any.</summary>
    public string? PinnedName => _terms.FirstOrDefault(t => t.Equal && t.Path == "metadata.name")?.Value;

    public static FieldSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var terms = new List<Term>();
        foreach (var raw in text.Split(','))
        {
            var part = raw.Trim();
            if (part.Length == 0)
            {
                continue;
            }

            var idx = part.IndexOf("!=", StringComparison.Ordinal);
            if (idx > 0)
            {
                terms.Add(new Term(part[..idx].Trim(), false, part[(idx + 2)..].Trim()));
                continue;
            }

            idx = part.IndexOf("==", StringComparison.Ordinal);
            if (idx > 0)
            {
                terms.Add(new Term(part[..idx].Trim(), true, part[(idx + 2)..].Trim()));
                continue;
            }

            idx = part.IndexOf('=', StringComparison.Ordinal);
            if (idx > 0)
            {
                terms.Add(new Term(part[..idx].Trim(), true, part[(idx + 1)..].Trim()));
                continue;
            }

            throw ApiError.BadRequest($"invalid selector: '{text}'; can't understand '{part}'");
        }

        return new FieldSelector(terms);
    }

    public bool Matches(JsonObject obj)
    {
        foreach (var t in _terms)
        {
            var actual = Lookup(obj, t.Path);
            if ((actual == t.Value) != t.Equal)
            {
                return false;
            }
        }

        return true;
    }

    private static string Lookup(JsonObject obj, string path)
    {
        JsonNode? node = obj;
        foreach (var segment in path.Split('.'))
        {
            node = node is JsonObject o ? o[segment] : null;
            if (node is null)
            {
                return "";
            }
        }

        return node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node.ToJsonString();
    }
}

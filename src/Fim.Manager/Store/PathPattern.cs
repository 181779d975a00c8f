using System.Text;

namespace Fim.Manager.Store;

/// <summary>
/// A path glob: '*' matches any run of characters ('/' included), '?' exactly one, '\' makes the next character
/// literal; everything else (quotes, '%', '_', '[', ...) is itself. Rendered as a LIKE pattern (PostgreSQL) or a GLOB
/// pattern (SQLite), always as a bound parameter with every wildcard of the target language escaped, so nothing in a
/// filter is ever interpreted as SQL or as the database's own pattern syntax.
/// </summary>
public sealed class PathPattern
{
    private enum Part
    {
        Literal,
        Any,
        One,
    }

    private readonly List<(Part Kind, string Text)> _parts;

    private PathPattern(List<(Part, string)> parts) => _parts = parts;

    /// <summary>The literal text before the first wildcard: the pattern's index range.</summary>
    public string LiteralPrefix => _parts.Count > 0 && _parts[0].Kind == Part.Literal ? _parts[0].Text : "";

    public static PathPattern Prefix(string prefix) => new([(Part.Literal, prefix), (Part.Any, "")]);

    /// <summary>Parses a glob; the error names what is wrong (without the field name).</summary>
    public static PathPattern? TryParseGlob(string glob, out string? error)
    {
        error = null;
        var parts = new List<(Part, string)>();
        var literal = new StringBuilder();
        void Flush()
        {
            if (literal.Length > 0)
            {
                parts.Add((Part.Literal, literal.ToString()));
                literal.Clear();
            }
        }
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            switch (c)
            {
                case '\\' when i + 1 == glob.Length:
                    error = "ends with an escape ('\\') that escapes nothing";
                    return null;
                case '\\':
                    literal.Append(glob[++i]);
                    break;
                case '*':
                    Flush();
                    if (parts.Count == 0 || parts[^1].Item1 != Part.Any)
                    {
                        parts.Add((Part.Any, ""));
                    }
                    break;
                case '?':
                    Flush();
                    parts.Add((Part.One, ""));
                    break;
                default:
                    literal.Append(c);
                    break;
            }
        }
        Flush();
        return new PathPattern(parts);
    }

    /// <summary>A LIKE pattern for ESCAPE '\'.</summary>
    public string ToLike()
    {
        var s = new StringBuilder();
        foreach (var (kind, text) in _parts)
        {
            switch (kind)
            {
                case Part.Any:
                    s.Append('%');
                    break;
                case Part.One:
                    s.Append('_');
                    break;
                default:
                    foreach (var c in text)
                    {
                        if (c is '%' or '_' or '\\')
                        {
                            s.Append('\\');
                        }
                        s.Append(c);
                    }
                    break;
            }
        }
        return s.ToString();
    }

    /// <summary>A SQLite GLOB pattern ('*', '?' and '[' put in brackets when literal).</summary>
    public string ToSqliteGlob()
    {
        var s = new StringBuilder();
        foreach (var (kind, text) in _parts)
        {
            switch (kind)
            {
                case Part.Any:
                    s.Append('*');
                    break;
                case Part.One:
                    s.Append('?');
                    break;
                default:
                    foreach (var c in text)
                    {
                        if (c is '*' or '?' or '[')
                        {
                            s.Append('[').Append(c).Append(']');
                        }
                        else
                        {
                            s.Append(c);
                        }
                    }
                    break;
            }
        }
        return s.ToString();
    }

    /// <summary>
    /// An exclusive upper bound of every string that starts with <paramref name="prefix"/> in byte (UTF-8) order, which
    /// is the order of PostgreSQL's "C" collation and SQLite's BINARY: the prefix followed by the highest code point.
    /// </summary>
    public static string UpperBound(string prefix) => prefix + char.ConvertFromUtf32(0x10FFFF) + char.ConvertFromUtf32(0x10FFFF);
}

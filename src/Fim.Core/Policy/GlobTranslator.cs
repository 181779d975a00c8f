using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Fim.Core.Policy;

/// <summary>Translates the body of a <see cref="PathGlob"/> into a .NET regular expression.</summary>
internal static class GlobTranslator
{
    /// <summary>The pattern's text with escapes removed, when it contains no wildcard at all.</summary>
    public static bool TryUnescapeLiteral(string body, out string literal)
    {
        var text = new StringBuilder(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            switch (body[i])
            {
                case '*' or '?' or '[':
                    literal = "";
                    return false;
                case '\\' when i + 1 < body.Length:
                    text.Append(body[++i]);
                    break;
                default:
                    text.Append(body[i]);
                    break;
            }
        }
        literal = text.ToString();
        return true;
    }

    /// <param name="body">The pattern without trailing '/'.</param>
    /// <param name="pattern">The pattern as written, for error messages.</param>
    public static string ToRegex(string body, string pattern)
    {
        var regex = new StringBuilder(body.Length * 2);
        for (var i = 0; i < body.Length; i++)
        {
            switch (body[i])
            {
                case '\\' when i + 1 < body.Length:
                    AppendLiteral(regex, body[++i]);
                    break;
                case '*':
                    i = AppendStars(regex, body, i);
                    break;
                case '?':
                    regex.Append("[^/]");
                    break;
                case '[':
                    i = AppendClass(regex, body, i, pattern);
                    break;
                default:
                    AppendLiteral(regex, body[i]);
                    break;
            }
        }
        return regex.ToString();
    }

    /// <summary>Translates a run of '*' starting at <paramref name="start"/>; returns the index of the last character consumed.</summary>
    private static int AppendStars(StringBuilder regex, string body, int start)
    {
        var end = start;
        while (end + 1 < body.Length && body[end + 1] == '*')
        {
            end++;
        }
        if (end == start)
        {
            regex.Append("[^/]*");
            return end;
        }
        var wholeSegment = start == 0 || body[start - 1] == '/';
        if (wholeSegment && end + 1 < body.Length && body[end + 1] == '/')
        {
            // "**/" is zero or more whole directories, so "/a/**/b" matches "/a/b" as well as "/a/x/y/b".
            regex.Append("(?:.*/)?");
            return end + 1;
        }
        regex.Append(".*");
        return end;
    }

    /// <summary>Translates "[...]" starting at <paramref name="start"/>; returns the index of its closing ']'.</summary>
    private static int AppendClass(StringBuilder regex, string body, int start, string pattern)
    {
        var i = start + 1;
        var negate = i < body.Length && body[i] is '!' or '^';
        if (negate)
        {
            i++;
        }
        var first = i;
        if (i < body.Length && body[i] == ']')
        {
            i++; // a ']' right after the opening is a member, as in the shell
        }
        var close = body.IndexOf(']', i);
        if (close < 0)
        {
            throw new FormatException($"unclosed '[' at position {start + 1} in glob '{pattern}'");
        }
        var members = body.AsSpan(first, close - first);
        // Members are written as \uXXXX so that no character of the glob can mean anything to the regex parser.
        regex.Append(negate ? "[^" : "[");
        for (var m = 0; m < members.Length; m++)
        {
            var low = members[m];
            if (m + 2 < members.Length && members[m + 1] == '-')
            {
                var high = members[m + 2];
                if (high < low)
                {
                    throw new FormatException($"range '{low}-{high}' is reversed in glob '{pattern}'");
                }
                AppendCodeUnit(regex, low).Append('-');
                AppendCodeUnit(regex, high);
                m += 2;
            }
            else
            {
                AppendCodeUnit(regex, low);
            }
        }
        // A class stays inside one path segment, negated or not.
        regex.Append("-[/]]");
        return close;
    }

    private static StringBuilder AppendCodeUnit(StringBuilder regex, char c) =>
        regex.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));

    private static void AppendLiteral(StringBuilder regex, char c) => regex.Append(Regex.Escape(c.ToString()));
}

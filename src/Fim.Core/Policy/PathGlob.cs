using System.Text;
using System.Text.RegularExpressions;
using Fim.Core.Model;

namespace Fim.Core.Policy;

/// <summary>
/// A shell-style glob over paths. A pattern that starts with '/' matches the whole absolute path;
/// one without a '/' matches the file name at any depth (like .gitignore). '*' and '?' stay inside one
/// path segment, '**' crosses segments, '[...]' is a character class.
/// </summary>
public sealed class PathGlob
{
    private readonly Regex _regex;
    private readonly bool _nameOnly;

    private PathGlob(string pattern, Regex regex, bool nameOnly)
    {
        Pattern = pattern;
        _regex = regex;
        _nameOnly = nameOnly;
    }

    public string Pattern { get; }

    public static PathGlob Compile(string pattern)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            throw new FormatException("empty glob");
        }
        var nameOnly = !pattern.Contains('/');
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*' when i + 1 < pattern.Length && pattern[i + 1] == '*':
                    i++;
                    if (i + 1 < pattern.Length && pattern[i + 1] == '/')
                    {
                        i++;
                        sb.Append("(?:.*/)?");
                    }
                    else
                    {
                        sb.Append(".*");
                    }
                    break;
                case '*':
                    sb.Append("[^/]*");
                    break;
                case '?':
                    sb.Append("[^/]");
                    break;
                case '[':
                    var end = pattern.IndexOf(']', i + 2);
                    if (end < 0)
                    {
                        throw new FormatException($"unclosed '[' at position {i + 1} in glob '{pattern}'");
                    }
                    var body = pattern[(i + 1)..end];
                    if (body.StartsWith('!'))
                    {
                        body = "^" + body[1..];
                    }
                    sb.Append('[').Append(body.Replace("\\", "\\\\")).Append(']');
                    i = end;
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        sb.Append('$');
        try
        {
            return new PathGlob(pattern, new Regex(sb.ToString(), RegexOptions.CultureInvariant | RegexOptions.Compiled), nameOnly);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"invalid glob '{pattern}': {e.Message}", e);
        }
    }

    public bool IsMatch(ReadOnlySpan<byte> path)
    {
        var target = _nameOnly ? PathBytes.FileName(path) : path;
        return _regex.IsMatch(Encoding.UTF8.GetString(target));
    }

    public override string ToString() => Pattern;
}

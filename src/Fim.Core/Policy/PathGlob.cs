using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Fim.Core.Model;

namespace Fim.Core.Policy;

/// <summary>
/// A shell-style glob over paths. A pattern that starts with '/' matches the whole absolute path; one without a
/// '/' matches the file name at any depth (like .gitignore); any other pattern ("cache/*.tmp") matches the last
/// segments of the path. '*' and '?' stay inside one path segment, '**' crosses segments ("/a/**/b" also matches
/// "/a/b"; "/a/**" matches everything below /a but not /a itself), '[...]' is a character class ('!' or '^'
/// negates; it never matches '/'), and '\' makes the next character literal. A trailing '/' is ignored.
/// </summary>
[SkipLocalsInit]
public sealed class PathGlob
{
    private const int StackDecodeChars = 512;

    private readonly GlobScope _scope;
    private readonly ShortcutKind _shortcut;
    /// <summary>The literal bytes a shortcut compares with; empty when the regex is used.</summary>
    private readonly byte[] _literal;
    /// <summary>The regex's expression; empty when a shortcut is used.</summary>
    private readonly string _expression;
    private Regex? _regex;

    private PathGlob(string pattern, GlobScope scope, ShortcutKind shortcut, byte[] literal, string expression)
    {
        Pattern = pattern;
        _scope = scope;
        _shortcut = shortcut;
        _literal = literal;
        _expression = expression;
    }

    public string Pattern { get; }

    /// <exception cref="FormatException">The pattern is empty or malformed; the message names it.</exception>
    public static PathGlob Compile(string pattern)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            throw new FormatException("empty glob");
        }
        if (pattern.Contains('\0'))
        {
            throw new FormatException($"glob '{pattern.Replace("\0", "\\0")}' contains a NUL character");
        }
        var body = pattern.Length > 1 ? pattern.TrimEnd('/') : pattern;
        if (body.Length == 0)
        {
            body = "/";
        }
        var scope = body.StartsWith('/') ? GlobScope.WholePath : body.Contains('/') ? GlobScope.PathEnd : GlobScope.FileName;
        if (FindShortcut(body, scope) is ({ } shortcut, { } literal))
        {
            return new PathGlob(pattern, scope, shortcut, Encoding.UTF8.GetBytes(literal), "");
        }
        var prefix = scope == GlobScope.PathEnd ? "^(?:.*/)?" : "^";
        var expression = prefix + GlobTranslator.ToRegex(body, pattern) + "$";
        try
        {
            // Checked now, so a bad glob fails the policy, by the backtracking parser (kilobytes; the translator emits
            // only constructs both engines accept); the non-backtracking matcher is built at the first match.
            _ = new Regex(expression, RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);
            return new PathGlob(pattern, scope, ShortcutKind.None, [], expression);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"invalid glob '{pattern}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Non-backtracking: matching time stays linear whatever stars a policy author writes. Built at the first match,
    /// not at compile time: its automaton costs about a megabyte and tens of milliseconds per glob, and most globs
    /// (the default no-diff list of every policy) are never matched by a run that makes no content diff.
    /// </summary>
    private Regex Matcher => Volatile.Read(ref _regex) ?? BuildMatcher();

    private Regex BuildMatcher()
    {
        var regex = new Regex(_expression, RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture | RegexOptions.NonBacktracking);
        // Two threads may both build it: equal matchers, the first one published is kept.
        return Interlocked.CompareExchange(ref _regex, regex, null) ?? regex;
    }

    /// <summary>A glob matching exactly <paramref name="absolutePath"/>, whatever glob characters it holds.</summary>
    public static PathGlob Literal(string absolutePath)
    {
        if (!absolutePath.StartsWith('/'))
        {
            throw new FormatException($"'{absolutePath}' is not an absolute path");
        }
        var escaped = new StringBuilder(absolutePath.Length + 8);
        foreach (var c in absolutePath)
        {
            if (c is '\\' or '*' or '?' or '[' or ']')
            {
                escaped.Append('\\');
            }
            escaped.Append(c);
        }
        return Compile(escaped.ToString());
    }

    /// <summary>
    /// Matches a path as bytes. Bytes that are not UTF-8 count as U+FFFD, so a '*' or '?' spans them and the ASCII
    /// parts of the name still match literally.
    /// </summary>
    public bool IsMatch(ReadOnlySpan<byte> path)
    {
        var target = _scope == GlobScope.FileName ? PathBytes.FileName(path) : path;
        return _shortcut switch
        {
            ShortcutKind.Equals when _scope == GlobScope.PathEnd => EndsWithSegments(target),
            ShortcutKind.Equals => target.SequenceEqual(_literal),
            ShortcutKind.EndsWith => target.EndsWith(_literal),
            ShortcutKind.StartsWith => target.StartsWith(_literal),
            _ => MatchesRegex(target),
        };
    }

    public override string ToString() => Pattern;

    /// <summary>
    /// The most common globs ("lost+found", "*.log", "/var/lib/docker/**") need no regex. Returns the comparison
    /// and the literal text to compare with, or (null, null) when the regex is needed.
    /// </summary>
    private static (ShortcutKind?, string?) FindShortcut(string body, GlobScope scope)
    {
        if (GlobTranslator.TryUnescapeLiteral(body, out var whole))
        {
            return (ShortcutKind.Equals, whole);
        }
        if (scope == GlobScope.FileName && body[0] == '*' && body.Length > 1 && body[1] != '*'
            && GlobTranslator.TryUnescapeLiteral(body[1..], out var suffix))
        {
            return (ShortcutKind.EndsWith, suffix);
        }
        if (scope == GlobScope.WholePath && body.EndsWith("/**", StringComparison.Ordinal)
            && GlobTranslator.TryUnescapeLiteral(body[..^2], out var directory))
        {
            return (ShortcutKind.StartsWith, directory);
        }
        return (null, null);
    }

    private bool EndsWithSegments(ReadOnlySpan<byte> target) =>
        target.EndsWith(_literal)
        && (target.Length == _literal.Length || target[target.Length - _literal.Length - 1] == (byte)'/');

    private bool MatchesRegex(ReadOnlySpan<byte> target)
    {
        // UTF-8 never decodes to more chars than it has bytes, so target.Length chars always suffice.
        char[]? rented = null;
        var chars = target.Length <= StackDecodeChars
            ? stackalloc char[target.Length]
            : rented = ArrayPool<char>.Shared.Rent(target.Length);
        try
        {
            var count = Encoding.UTF8.GetChars(target, chars);
            return Matcher.IsMatch(chars[..count]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private enum GlobScope
    {
        /// <summary>Pattern starts with '/': matched against the whole path.</summary>
        WholePath,
        /// <summary>Pattern has no '/': matched against the last segment only.</summary>
        FileName,
        /// <summary>Pattern has an inner '/': matched against the trailing segments.</summary>
        PathEnd,
    }

    private enum ShortcutKind
    {
        None,
        Equals,
        EndsWith,
        StartsWith,
    }
}

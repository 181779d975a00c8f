using System.Globalization;
using System.Text;

namespace Fim.Contracts.Text;

/// <summary>
/// Makes untrusted text (file names, link targets, owner names, rule descriptions) safe to print for people: a
/// hostile name cannot clear the screen, recolour the output, move the cursor or start a forged line. The one
/// escaping function for every human-readable output (the agent's terminal view and plain-text log, fimctl).
/// Machine output (JSON) needs none of this: its encoder already escapes control characters.
/// </summary>
public static class TerminalText
{
    /// <summary>
    /// Escapes C0 and C1 control characters and DEL (\n, \r, \t, \e, \xNN, \u0085), the Unicode line and
    /// paragraph separators and the bidirectional overrides that reorder what is shown ("Trojan Source"),
    /// and lone surrogates (\uD800). A backslash is left alone, as in <c>PathBytes.ToDisplay</c>'s \xNN for bytes
    /// that are not UTF-8: this is for reading, not for round trips (JSON output keeps the exact name).
    /// Text without any of these is returned as is (the same instance).
    /// </summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }
        var first = IndexOfUnsafe(text);
        if (first < 0)
        {
            return text;
        }
        var sb = new StringBuilder(text.Length + 16);
        sb.Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(c).Append(text[++i]);
                continue;
            }
            if (!NeedsEscape(c))
            {
                sb.Append(c);
                continue;
            }
            switch (c)
            {
                case '\n': sb.Append(@"\n"); break;
                case '\r': sb.Append(@"\r"); break;
                case '\t': sb.Append(@"\t"); break;
                case '\u001b': sb.Append(@"\e"); break;
                case < '\u0080':
                    sb.Append(@"\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    break;
                default:
                    sb.Append(@"\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>True when <paramref name="text"/> holds something <see cref="Escape"/> would change.</summary>
    public static bool NeedsEscaping(string? text) => text is not null && IndexOfUnsafe(text) >= 0;

    private static int IndexOfUnsafe(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }
            if (NeedsEscape(c))
            {
                return i;
            }
        }
        return -1;
    }

    private static bool NeedsEscape(char c) =>
        c is < ' ' or (>= '\u007f' and <= '\u009f')
            or '\u2028' or '\u2029'
            or (>= '\u202a' and <= '\u202e')
            or (>= '\u2066' and <= '\u2069')
            or '\u200e' or '\u200f' or '\u061c'
        || char.IsSurrogate(c);
}

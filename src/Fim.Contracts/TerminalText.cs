using System.Globalization;
using System.Text;

namespace Fim.Contracts;

/// <summary>
/// Makes text from the outside world (file names, host names, labels) safe to print for a person: control characters
/// (C0, DEL, C1, which drive terminals: clear screen, colours, carriage return, new line) and the Unicode bidirectional
/// overrides (which reorder what is shown) are written as visible escapes, so a hostile file name cannot forge or hide
/// output. Backslash is doubled, so every escape is unambiguous. Machine output (JSON) needs none of this.
/// </summary>
public static class TerminalText
{
    /// <summary>
    /// <paramref name="text"/> with every control character escaped. <paramref name="doubleBackslash"/> false leaves
    /// backslashes alone, for text that already uses them as escapes (JSON), where doubling would only garble it.
    /// </summary>
    public static string Escape(string? text, bool doubleBackslash = true)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }
        var i = 0;
        while (i < text.Length && !NeedsEscape(text[i], doubleBackslash))
        {
            i++;
        }
        if (i == text.Length)
        {
            return text;
        }
        var sb = new StringBuilder(text.Length + 16).Append(text, 0, i);
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (!NeedsEscape(c, doubleBackslash))
            {
                sb.Append(c);
                continue;
            }
            sb.Append(c switch
            {
                '\\' => @"\\",
                '\n' => @"\n",
                '\r' => @"\r",
                '\t' => @"\t",
                '\e' => @"\e",
                < '\u0100' => @"\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture),
                _ => @"\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
            });
        }
        return sb.ToString();
    }

    private static bool NeedsEscape(char c, bool backslash) =>
        (backslash && c == '\\') || char.IsControl(c) || c is '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}

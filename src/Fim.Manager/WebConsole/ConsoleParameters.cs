using System.Globalization;
using System.Text;

namespace Fim.Manager.WebConsole;

/// <summary>
/// The console's URL parameters: pages keep their filters in the address under the REST API's names, so a link
/// reproduces a view; times are RFC 3339 or a time ago, and the API's refusals are shown with the URL's names.
/// </summary>
public static class ConsoleParameters
{
    /// <summary><paramref name="page"/> with the parameters that have a value, escaped.</summary>
    public static string Url(string page, IEnumerable<(string Name, string? Value)> parameters)
    {
        var query = string.Join("&", parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => p.Name + "=" + Uri.EscapeDataString(p.Value!)));
        return page + (query.Length > 0 ? "?" + query : "");
    }

    /// <summary>RFC 3339 (2026-03-01T12:00:00Z), or a time before now: 30m, 12h, 7d.</summary>
    public static DateTimeOffset? Time(string? text, string name, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        if (text.Length >= 2 && char.IsAsciiDigit(text[0]) && "smhd".Contains(text[^1], StringComparison.Ordinal)
            && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 36_500L * 24 * 3600)
        {
            var ago = text[^1] switch { 's' => TimeSpan.FromSeconds(n), 'm' => TimeSpan.FromMinutes(n), 'h' => TimeSpan.FromHours(n), _ => TimeSpan.FromDays(n) };
            return now - ago;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            && time.Year is >= 1970 and < 9000)
        {
            return time.ToUniversalTime();
        }
        throw new FormatException($"{name}: '{Shorten(text)}' is not a time: give RFC 3339 (2026-03-01T12:00:00Z) or a time ago such as 30m, 12h or 7d");
    }

    /// <summary>The API names a field as the proto does (min_level); the URL as REST does (minLevel).</summary>
    public static string UrlNames(string message)
    {
        var colon = message.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return message;
        }
        var field = new StringBuilder();
        var upper = false;
        foreach (var c in message[..colon])
        {
            if (c == '_')
            {
                upper = true;
                continue;
            }
            field.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        return field + message[colon..];
    }

    public static string Shorten(string text) => text.Length > 64 ? text[..64] + "..." : text;
}

using System.Text;
using System.Text.RegularExpressions;

namespace Fim.Nats;

/// <summary>
/// The one place that hides secrets in what is logged or shown in an error: credentials in a URL's user info
/// (nats://user:password@host, nats://token@host), secret-looking query parameters (?token=..., ?password=...).
/// Applied to every URL before it reaches a log line or an error message, valid URL or not.
/// </summary>
public static partial class SecretMasking
{
    public const string Mask = "***";

    /// <summary>
    /// <paramref name="urls"/> (one URL or a comma-separated list) with passwords, tokens and secret query values
    /// replaced by <see cref="Mask"/>; a user name before ':' is kept, so the log still says who logs in.
    /// Works on text that does not parse as a URL, which is where a mistyped password usually ends up.
    /// </summary>
    public static string MaskUrl(string? urls)
    {
        if (string.IsNullOrEmpty(urls))
        {
            return urls ?? "";
        }
        var parts = urls.Split(',');
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = MaskOne(parts[i]);
        }
        return string.Join(',', parts);
    }

    private static string MaskOne(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var authorityStart = schemeEnd < 0 ? 0 : schemeEnd + 3;
        // The last '@' ends the user info: a password may itself hold '@', '/' or ':'.
        var at = url.LastIndexOf('@');
        var result = new StringBuilder(url.Length);
        if (at >= authorityStart)
        {
            var userInfo = url.AsSpan(authorityStart, at - authorityStart);
            var colon = userInfo.IndexOf(':');
            result.Append(url, 0, authorityStart);
            if (colon > 0)
            {
                result.Append(userInfo[..colon]).Append(':');
            }
            result.Append(Mask).Append(url, at, url.Length - at);
        }
        else
        {
            result.Append(url);
        }
        return SecretQueryValue().Replace(result.ToString(), m => m.Groups["name"].Value + Mask);
    }

    [GeneratedRegex(@"(?<name>[?&;](?:[a-z0-9_.-]*(?:pass(?:word)?|pwd|token|secret|key|auth|sig(?:nature)?|credentials?))=)[^&;#]*",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretQueryValue();
}

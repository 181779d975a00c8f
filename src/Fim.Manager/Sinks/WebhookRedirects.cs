using System.Net;

namespace Fim.Manager.Sinks;

/// <summary>
/// What the webhook sink does with a redirect: it never leaves the configured origin (scheme, host and port), so a
/// compromised or misconfigured hook cannot send alerts, which name files and hosts, somewhere else. A redirect within
/// the origin (a moved path) is followed, re-posting the same body, at most <see cref="MaxSameOriginHops"/> times.
/// </summary>
public static class WebhookRedirects
{
    public const int MaxSameOriginHops = 3;

    public static bool IsRedirect(HttpStatusCode status) => (int)status is >= 300 and < 400 and not 304;

    /// <summary>Where a redirect points, relative locations resolved; null when it names no usable http(s) target.</summary>
    public static Uri? Target(Uri from, Uri? location)
    {
        if (location is null)
        {
            return null;
        }
        var target = location.IsAbsoluteUri ? location : new Uri(from, location);
        return target.Scheme is "http" or "https" ? target : null;
    }

    public static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
        && a.Port == b.Port;
}

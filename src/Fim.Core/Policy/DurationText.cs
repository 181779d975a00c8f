using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Fim.Core.Policy;

/// <summary>
/// Durations as people write them: "90s", "30m", "12h", "7d", combinations largest unit first ("1h30m", "1d12h"),
/// or a plain number of seconds ("3600").
/// </summary>
public static partial class DurationText
{
    private const string Expected =
        "expected a number of seconds or numbers with units d, h, m, s, largest first, e.g. '90s', '30m', '12h', '7d' or '1h30m'";

    private static readonly long MaxSeconds = TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerSecond;

    public static TimeSpan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var duration, out var error) ? duration : throw new FormatException(error);
    }

    public static bool TryParse(string? text, out TimeSpan duration) => TryParse(text, out duration, out _);

    /// <summary>Like Parse, but returns the reason instead of throwing.</summary>
    public static bool TryParse(string? text, out TimeSpan duration, [NotNullWhen(false)] out string? error)
    {
        duration = TimeSpan.Zero;
        var match = DurationPattern().Match(text?.Trim() ?? "");
        if (!match.Success || match.Length == 0)
        {
            error = $"invalid duration '{text}': {Expected}";
            return false;
        }
        try
        {
            var seconds = checked(
                Component(match, "seconds", 1)
                + Component(match, "d", 86400)
                + Component(match, "h", 3600)
                + Component(match, "m", 60)
                + Component(match, "s", 1));
            if (seconds > MaxSeconds)
            {
                throw new OverflowException();
            }
            duration = TimeSpan.FromSeconds(seconds);
            error = null;
            return true;
        }
        catch (OverflowException)
        {
            error = $"invalid duration '{text}': too long";
            return false;
        }
    }

    private static long Component(Match match, string group, long secondsPerUnit)
    {
        var value = match.Groups[group];
        return value.Success ? checked(long.Parse(value.Value, NumberStyles.None, CultureInfo.InvariantCulture) * secondsPerUnit) : 0;
    }

    [GeneratedRegex(@"^(?:(?<seconds>[0-9]{1,18})|(?:(?<d>[0-9]{1,18})d)?(?:(?<h>[0-9]{1,18})h)?(?:(?<m>[0-9]{1,18})m)?(?:(?<s>[0-9]{1,18})s)?)$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();
}

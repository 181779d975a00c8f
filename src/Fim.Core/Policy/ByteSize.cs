using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Fim.Core.Policy;

/// <summary>
/// Sizes as people write them: "1048576", "500M" or "500MB" (decimal, 1000), "2Gi" or "2GiB" (binary, 1024).
/// Units K, M, G, T in either case; the 'i' of a binary unit and the trailing B are optional.
/// </summary>
public static partial class ByteSize
{
    private const string Expected =
        "expected a whole number of bytes with an optional unit K, M, G, T (powers of 1000) or Ki, Mi, Gi, Ti (powers of 1024), e.g. '1048576', '500M' or '2Gi'";

    public static long Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var bytes, out var error) ? bytes : throw new FormatException(error);
    }

    public static bool TryParse(string? text, out long bytes) => TryParse(text, out bytes, out _);

    /// <summary>Like Parse, but returns the reason instead of throwing.</summary>
    public static bool TryParse(string? text, out long bytes, [NotNullWhen(false)] out string? error)
    {
        bytes = 0;
        var match = SizePattern().Match(text?.Trim() ?? "");
        if (!match.Success)
        {
            error = $"invalid size '{text}': {Expected}";
            return false;
        }
        var unit = match.Groups["unit"].Value;
        if (!decimal.TryParse(match.Groups["number"].Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            error = $"invalid size '{text}': the number is too large";
            return false;
        }
        decimal value;
        try
        {
            value = number * Multiplier(unit);
        }
        catch (OverflowException)
        {
            error = $"invalid size '{text}': the number is too large";
            return false;
        }
        if (value != decimal.Truncate(value))
        {
            error = $"invalid size '{text}': not a whole number of bytes";
            return false;
        }
        if (value is > long.MaxValue or < long.MinValue)
        {
            error = $"invalid size '{text}': the number is too large";
            return false;
        }
        bytes = (long)value;
        error = null;
        return true;
    }

    private static decimal Multiplier(string unit)
    {
        if (unit.Length == 0)
        {
            return 1;
        }
        var power = char.ToUpperInvariant(unit[0]) switch
        {
            'K' => 1,
            'M' => 2,
            'G' => 3,
            'T' => 4,
            _ => throw new ArgumentOutOfRangeException(nameof(unit)),
        };
        decimal step = unit.Length == 2 ? 1024 : 1000;
        decimal multiplier = 1;
        for (var i = 0; i < power; i++)
        {
            multiplier *= step;
        }
        return multiplier;
    }

    [GeneratedRegex(@"^(?<number>[+-]?[0-9]{1,20}(?:\.[0-9]{1,20})?)\s*(?<unit>[KkMmGgTt]i?)?[Bb]?$", RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();
}

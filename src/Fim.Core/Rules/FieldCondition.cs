using System.Globalization;
using System.Text.RegularExpressions;
using Fim.Contracts;

namespace Fim.Core.Rules;

/// <summary>What a <see cref="FieldCondition"/> checks.</summary>
public enum FieldTest : byte
{
    Equals,
    OneOf,
    Regex,
    GreaterThan,
    AtLeast,
    LessThan,
    AtMost,
    Exists,
    Absent,
}

/// <summary>
/// One condition on a decoded field of a security record (<see cref="SecurityRecord.Fields"/>): text compared
/// ordinally and case-insensitively (tools disagree on case: Falco writes "Critical", OCSF "FAIL"), regexes
/// case-sensitive unless they say otherwise, numbers as decimals. An event without a record never matches a field condition.
/// </summary>
public sealed class FieldCondition
{
    /// <summary>Bounds a user's regex so a pathological pattern cannot stall the pipeline.</summary>
    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(50);

    public required string Field { get; init; }
    public required FieldTest Test { get; init; }
    public IReadOnlyList<string> Values { get; init; } = [];
    public Regex? Pattern { get; init; }
    public decimal Number { get; init; }

    public bool Holds(SecurityRecord record)
    {
        var present = record.Fields.TryGetValue(Field, out var value);
        switch (Test)
        {
            case FieldTest.Exists:
                return present;
            case FieldTest.Absent:
                return !present;
        }
        if (!present)
        {
            return false;
        }
        return Test switch
        {
            FieldTest.Equals or FieldTest.OneOf => Values.Any(v => string.Equals(v, value, StringComparison.OrdinalIgnoreCase)),
            FieldTest.Regex => Matches(value!),
            _ => decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && Test switch
            {
                FieldTest.GreaterThan => n > Number,
                FieldTest.AtLeast => n >= Number,
                FieldTest.LessThan => n < Number,
                _ => n <= Number,
            },
        };
    }

    private bool Matches(string value)
    {
        try
        {
            return Pattern!.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}

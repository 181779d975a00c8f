using System.Text.RegularExpressions;

namespace Fim.Core.Rules;

/// <summary>Compiles a rule file's <see cref="FieldSpec"/> into a <see cref="FieldCondition"/>, or says what is wrong with it.</summary>
public static class FieldConditions
{
    private const string Tests = "equals, oneOf, regex, greaterThan, atLeast, lessThan, atMost, exists";

    public static string? Compile(FieldSpec spec, out FieldCondition? condition)
    {
        condition = null;
        if (string.IsNullOrWhiteSpace(spec.Field))
        {
            return "field: is required (a decoded field's dotted name, such as priority or output_fields.proc.name)";
        }
        var given = new List<string>();
        if (spec.EqualTo is not null) given.Add("equals");
        if (spec.OneOf is not null) given.Add("oneOf");
        if (spec.Regex is not null) given.Add("regex");
        if (spec.GreaterThan is not null) given.Add("greaterThan");
        if (spec.AtLeast is not null) given.Add("atLeast");
        if (spec.LessThan is not null) given.Add("lessThan");
        if (spec.AtMost is not null) given.Add("atMost");
        if (spec.Exists is not null) given.Add("exists");
        if (given.Count != 1)
        {
            return given.Count == 0
                ? $"field '{spec.Field}' has no test; give exactly one of {Tests}"
                : $"field '{spec.Field}' has {string.Join(" and ", given)}; give exactly one test per entry (list the field again for another)";
        }
        if (spec.OneOf is { Count: 0 })
        {
            return $"field '{spec.Field}': oneOf is empty, which nothing matches";
        }
        Regex? pattern = null;
        if (spec.Regex is { } text)
        {
            try
            {
                pattern = new Regex(text, RegexOptions.CultureInvariant, FieldCondition.RegexTimeout);
            }
            catch (ArgumentException e)
            {
                return $"field '{spec.Field}': regex '{text}' does not compile: {e.Message}";
            }
        }
        condition = new FieldCondition
        {
            Field = spec.Field,
            Test = given[0] switch
            {
                "equals" => FieldTest.Equals,
                "oneOf" => FieldTest.OneOf,
                "regex" => FieldTest.Regex,
                "greaterThan" => FieldTest.GreaterThan,
                "atLeast" => FieldTest.AtLeast,
                "lessThan" => FieldTest.LessThan,
                "atMost" => FieldTest.AtMost,
                _ => spec.Exists == true ? FieldTest.Exists : FieldTest.Absent,
            },
            Values = spec.EqualTo is { } one ? [one] : spec.OneOf ?? [],
            Pattern = pattern,
            Number = spec.GreaterThan ?? spec.AtLeast ?? spec.LessThan ?? spec.AtMost ?? 0,
        };
        return null;
    }
}

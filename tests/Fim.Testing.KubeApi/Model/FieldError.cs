using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Fim.Testing.KubeApi.Model;

/// <summary>
/// A field-level validation error rendered like <c>k8s.io/apimachinery/pkg/util/validation/field.Error</c>:
/// <c>spec.x: Invalid value: "abc": detail</c>.
/// </summary>
public sealed record FieldError(string Reason, string Field, string Body)
{
    public override string ToString() => $"{Field}: {Body}";

    public static FieldError Required(string field, string detail = "") =>
        new("FieldValueRequired", field, WithDetail("Required value", detail));

    public static FieldError Invalid(string field, JsonNode? value, string detail) =>
        new("FieldValueInvalid", field, WithDetail("Invalid value: " + FormatValue(value), detail));

    public static FieldError InvalidText(string field, string renderedValue, string detail) =>
        new("FieldValueInvalid", field, WithDetail("Invalid value: " + renderedValue, detail));

    public static FieldError TypeInvalid(string field, string actualType, string detail) =>
        new("FieldValueTypeInvalid", field, WithDetail("Invalid value: " + Quote(actualType), detail));

    public static FieldError NotSupported(string field, JsonNode? value, IEnumerable<string> supported) =>
        new("FieldValueNotSupported", field,
            WithDetail("Unsupported value: " + FormatValue(value), "supported values: " + string.Join(", ", supported.Select(Quote))));

    public static FieldError TooLong(string field, long max) =>
        new("FieldValueTooLong", field, WithDetail("Too long", max >= 0 ? $"may not be longer than {max}" : "value is too long"));

    public static FieldError TooMany(string field, long actual, long max) =>
        new("FieldValueTooMany", field,
            WithDetail("Too many: " + actual.ToString(CultureInfo.InvariantCulture), $"must have at most {max} items"));

    public static FieldError Forbidden(string field, string detail) =>
        new("FieldValueForbidden", field, WithDetail("Forbidden", detail));

    private static string WithDetail(string head, string detail) => detail.Length == 0 ? head : head + ": " + detail;

    /// <summary>Go's <c>%q</c> for a string.</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append('"').ToString();
    }

    /// <summary>How field.Error prints a bad value: strings quoted, scalars plain, null as "null", others as JSON.</summary>
    public static string FormatValue(JsonNode? value)
    {
        if (value is null)
        {
            return "\"null\"";
        }

        if (value is JsonValue v)
        {
            if (v.TryGetValue<string>(out var s))
            {
                return Quote(s);
            }

            return v.ToJsonString();
        }

        // Go prints maps and slices with %#v; a JSON rendering is the readable approximation.
        return value.ToJsonString();
    }
}

using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Fim.Operator.Api;
using k8s.Models;

namespace Fim.Operator.Crds;

/// <summary>Structural OpenAPI v3 schema of a C# type, by reflection over its public properties and the Api attributes.</summary>
public static class SchemaGenerator
{
    public static V1JSONSchemaProps For(Type type) => ForType(type, null, 0);

    private static V1JSONSchemaProps ForType(Type type, PropertyInfo? property, int depth)
    {
        if (depth > 16)
        {
            throw new InvalidOperationException($"{type.Name}: schema nesting too deep (a cycle?)");
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        if (property?.GetCustomAttribute<FreeFormAttribute>() is not null)
        {
            return new V1JSONSchemaProps
            {
                Type = "object",
                XKubernetesPreserveUnknownFields = true,
                Description = property.GetCustomAttribute<DescriptionAttribute>()?.Text,
            };
        }

        var schema = type switch
        {
            _ when type == typeof(string) => new V1JSONSchemaProps { Type = "string" },
            _ when type == typeof(bool) => new V1JSONSchemaProps { Type = "boolean" },
            _ when type == typeof(int) => new V1JSONSchemaProps { Type = "integer", Format = "int32" },
            _ when type == typeof(long) => new V1JSONSchemaProps { Type = "integer", Format = "int64" },
            _ when type == typeof(double) => new V1JSONSchemaProps { Type = "number", Format = "double" },
            _ when type == typeof(DateTime) => new V1JSONSchemaProps { Type = "string", Format = "date-time" },
            _ when type == typeof(ResourceQuantity) => new V1JSONSchemaProps { XKubernetesIntOrString = true },
            _ when DictionaryValueType(type) is { } value => new V1JSONSchemaProps
            {
                Type = "object",
                AdditionalProperties = ForType(value, null, depth + 1),
            },
            _ when ListItemType(type) is { } item => new V1JSONSchemaProps { Type = "array", Items = ForType(item, property, depth + 1) },
            _ when type.IsClass => ForObject(type, depth),
            _ => throw new NotSupportedException($"{type.Name}: no schema mapping"),
        };
        if (property is not null && schema.Type != "array")
        {
            ApplyScalarAttributes(schema, property);
        }

        return schema;
    }

    private static V1JSONSchemaProps ForObject(Type type, int depth)
    {
        var properties = new Dictionary<string, V1JSONSchemaProps>();
        var required = new List<string>();
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.CanWrite))
        {
            var name = JsonName(p);
            var schema = ForType(p.PropertyType, p, depth + 1);
            if (schema.Type == "array")
            {
                schema.Description = p.GetCustomAttribute<DescriptionAttribute>()?.Text;
                if (p.GetCustomAttribute<MinItemsAttribute>() is { } min)
                {
                    schema.MinItems = min.Count;
                }
            }

            properties[name] = schema;
            if (p.GetCustomAttribute<RequiredFieldAttribute>() is not null)
            {
                required.Add(name);
            }
        }

        var rules = type.GetCustomAttributes<ValidationRuleAttribute>().Select(r => new V1ValidationRule { Rule = r.Rule, Message = r.Message }).ToList();
        return new V1JSONSchemaProps
        {
            Type = "object",
            Description = type.GetCustomAttribute<DescriptionAttribute>()?.Text,
            Properties = properties,
            Required = required.Count > 0 ? required : null,
            XKubernetesValidations = rules.Count > 0 ? rules : null,
        };
    }

    /// <summary>Property-level attributes; on a list they apply to its items (pattern, enum, range).</summary>
    private static void ApplyScalarAttributes(V1JSONSchemaProps schema, PropertyInfo p)
    {
        schema.Description ??= p.GetCustomAttribute<DescriptionAttribute>()?.Text;
        if (p.GetCustomAttribute<EnumValuesAttribute>() is { } e)
        {
            schema.EnumProperty = e.Values.Cast<object>().ToList();
        }

        if (p.GetCustomAttribute<PatternAttribute>() is { } pattern)
        {
            schema.Pattern = pattern.Regex;
        }

        if (p.GetCustomAttribute<RangeAttribute>() is { } range)
        {
            schema.Minimum = double.IsNaN(range.Minimum) ? null : range.Minimum;
            schema.Maximum = double.IsNaN(range.Maximum) ? null : range.Maximum;
        }

        if (p.GetCustomAttribute<DefaultValueAttribute>() is { } d)
        {
            schema.DefaultProperty = d.Value;
        }
    }

    public static string JsonName(PropertyInfo p) =>
        p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(p.Name);

    private static Type? DictionaryValueType(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) && type.GetGenericArguments()[0] == typeof(string)
            ? type.GetGenericArguments()[1]
            : null;

    private static Type? ListItemType(Type type) =>
        type != typeof(string) && type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && type.GetGenericArguments().Length == 1
            ? type.GetGenericArguments()[0]
            : null;
}

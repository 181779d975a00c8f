using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Fim.Deploy.Tests;

/// <summary>
/// Strict checks of rendered manifests: built-in kinds must parse into KubernetesClient's typed models with unknown
/// fields refused; custom resources must validate against their CRD's structural schema (unknown fields refused
/// where the schema does not preserve them, types, enums, patterns, ranges, required).
/// </summary>
public static class StrictValidation
{
    private static readonly Dictionary<string, Type> BuiltIn = typeof(V1Pod).Assembly.GetTypes()
        .Select(t => (t, a: t.GetCustomAttribute<KubernetesEntityAttribute>()))
        .Where(x => x.a is not null && x.a.Kind is not null && !x.t.Name.EndsWith("List", StringComparison.Ordinal))
        .GroupBy(x => ApiVersion(x.a!.Group, x.a.ApiVersion) + "/" + x.a!.Kind)
        .ToDictionary(g => g.Key, g => g.First().t);

    private static string ApiVersion(string? group, string version) => string.IsNullOrEmpty(group) ? version : group + "/" + version;

    public static bool IsBuiltIn(string apiVersion, string kind) => BuiltIn.ContainsKey(apiVersion + "/" + kind);

    /// <summary>Parses a built-in object strictly into its typed model; throws naming the unknown field.</summary>
    public static object ParseTyped(string doc)
    {
        var objs = KubernetesYaml.LoadAllFromString(doc, BuiltIn, strict: true);
        Assert.Single(objs);
        var (apiVersion, kind, _) = HelmRender.Id(doc);
        Assert.Equal(BuiltIn[apiVersion + "/" + kind], objs[0].GetType());
        return objs[0];
    }

    /// <summary>The CRDs of a directory (or files), keyed by apiVersion/kind, with their served schema.</summary>
    public static Dictionary<string, V1JSONSchemaProps> LoadCrds(IEnumerable<string> files)
    {
        var result = new Dictionary<string, V1JSONSchemaProps>();
        foreach (var file in files)
        {
            foreach (var o in KubernetesYaml.LoadAllFromString(File.ReadAllText(file)))
            {
                var crd = Assert.IsType<V1CustomResourceDefinition>(o);
                foreach (var v in crd.Spec.Versions.Where(v => v.Served))
                {
                    result[crd.Spec.Group + "/" + v.Name + "/" + crd.Spec.Names.Kind] = v.Schema.OpenAPIV3Schema;
                }
            }
        }
        return result;
    }

    /// <summary>Errors of a custom resource against its CRD schema (empty: valid).</summary>
    public static List<string> ValidateCustomResource(V1JSONSchemaProps schema, string doc)
    {
        var json = ToJson(HelmRender.Parse(doc));
        var errors = new List<string>();
        Validate(schema, json, "", errors, root: true);
        return errors;
    }

    public static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode s => new JsonArray(s.Children.Select(ToJson).ToArray()),
        YamlScalarNode sc => Scalar(sc),
        _ => throw new NotSupportedException(node.GetType().Name),
    };

    private static JsonNode? Scalar(YamlScalarNode s)
    {
        var v = s.Value ?? "";
        if (s.Style != ScalarStyle.Plain)
        {
            return JsonValue.Create(v);
        }
        if (v is "" or "~" or "null")
        {
            return null;
        }
        if (v is "true" or "false")
        {
            return JsonValue.Create(v == "true");
        }
        if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }
        if (Regex.IsMatch(v, @"^-?[0-9]+\.[0-9]+$") && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            return JsonValue.Create(d);
        }
        return JsonValue.Create(v);
    }

    private static V1JSONSchemaProps? AsSchema(object? o) => o switch
    {
        null => null,
        V1JSONSchemaProps p => p,
        bool => null,
        _ => KubernetesJson.Deserialize<V1JSONSchemaProps>(KubernetesJson.Serialize(o)),
    };

    private static void Validate(V1JSONSchemaProps s, JsonNode? v, string path, List<string> errors, bool root = false)
    {
        var at = path.Length == 0 ? "<root>" : path;
        if (v is null)
        {
            if (s.Nullable != true)
            {
                errors.Add($"{at}: null is not allowed");
            }
            return;
        }
        if (s.XKubernetesIntOrString == true)
        {
            if (!(IsInteger(v) || IsString(v)))
            {
                errors.Add($"{at}: must be an integer or a string");
            }
            return;
        }
        switch (s.Type)
        {
            case "object" when v is not JsonObject:
            case "array" when v is not JsonArray:
            case "string" when !IsString(v):
            case "integer" when !IsInteger(v):
            case "number" when !(v is JsonValue nv && nv.GetValueKind() == JsonValueKind.Number):
            case "boolean" when !(v is JsonValue bv && bv.GetValueKind() is JsonValueKind.True or JsonValueKind.False):
                errors.Add($"{at}: must be of type {s.Type}, got {v.ToJsonString()}");
                return;
        }
        if (s.EnumProperty is { Count: > 0 } en && !en.Select(e => e?.ToString()).Contains(Text(v)))
        {
            errors.Add($"{at}: '{Text(v)}' is not one of [{string.Join(", ", en)}]");
        }
        if (IsString(v))
        {
            var str = v.GetValue<string>();
            if (s.Pattern is { } pattern && !Regex.IsMatch(str, pattern))
            {
                errors.Add($"{at}: '{str}' does not match {pattern}");
            }
            if (s.MinLength is { } minL && str.Length < minL)
            {
                errors.Add($"{at}: shorter than {minL}");
            }
            if (s.MaxLength is { } maxL && str.Length > maxL)
            {
                errors.Add($"{at}: longer than {maxL}");
            }
        }
        if (v is JsonValue num && num.GetValueKind() == JsonValueKind.Number)
        {
            var x = double.Parse(num.ToJsonString(), CultureInfo.InvariantCulture);
            if (s.Minimum is { } min && x < min)
            {
                errors.Add($"{at}: {x} is below the minimum {min}");
            }
            if (s.Maximum is { } max && x > max)
            {
                errors.Add($"{at}: {x} is above the maximum {max}");
            }
        }
        if (v is JsonObject obj)
        {
            foreach (var req in s.Required ?? [])
            {
                if (!obj.ContainsKey(req))
                {
                    errors.Add($"{at}: required field '{req}' is missing");
                }
            }
            if (root)
            {
                obj = (JsonObject)obj.DeepClone();
                obj.Remove("metadata");
                obj.Remove("apiVersion");
                obj.Remove("kind");
            }
            var additional = AsSchema(s.AdditionalProperties);
            foreach (var (key, child) in obj)
            {
                var childPath = path + "." + key;
                if (s.Properties is not null && s.Properties.TryGetValue(key, out var ps))
                {
                    Validate(ps, child, childPath, errors);
                }
                else if (additional is not null)
                {
                    Validate(additional, child, childPath, errors);
                }
                else if (s.AdditionalProperties is true || s.XKubernetesPreserveUnknownFields == true)
                {
                    // allowed as is
                }
                else
                {
                    errors.Add($"{childPath}: unknown field");
                }
            }
        }
        if (v is JsonArray arr)
        {
            if (s.MinItems is { } minI && arr.Count < minI)
            {
                errors.Add($"{at}: fewer than {minI} items");
            }
            if (s.MaxItems is { } maxI && arr.Count > maxI)
            {
                errors.Add($"{at}: more than {maxI} items");
            }
            if (AsSchema(s.Items) is { } items)
            {
                for (var i = 0; i < arr.Count; i++)
                {
                    Validate(items, arr[i], $"{path}[{i}]", errors);
                }
            }
        }
    }

    private static bool IsString(JsonNode v) => v is JsonValue jv && jv.GetValueKind() == JsonValueKind.String;

    private static bool IsInteger(JsonNode v) => v is JsonValue jv && jv.GetValueKind() == JsonValueKind.Number && jv.TryGetValue<long>(out _);

    private static string Text(JsonNode v) => IsString(v) ? v.GetValue<string>() : v.ToJsonString();
}

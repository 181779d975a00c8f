using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Schema;

/// <summary>
/// What the apiextensions-apiserver does with a custom resource against its version's openAPIV3Schema:
/// prune unknown fields, apply defaults, validate. Error texts follow kube-openapi's
/// (<c>spec.x in body should match '^/'</c>) wrapped in field errors as apiextensions does.
/// Not implemented: CEL (x-kubernetes-validations), list-type/map-type uniqueness, $ref.
/// </summary>
public static class StructuralSchema
{
    private static readonly HashSet<string> ObjectMetaFields = new(StringComparer.Ordinal)
    {
        "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
        "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers",
        "managedFields",
    };

    /// <summary>Removes fields the schema does not declare; returns their paths (e.g. <c>spec.paths[0].bogus</c>).</summary>
    public static List<string> Prune(JsonObject resource, JsonObject? schema)
    {
        var unknown = new List<string>();
        if (schema is null)
        {
            return unknown;
        }

        PruneObject(resource, schema, "", unknown, isRoot: true);
        unknown.Sort(StringComparer.Ordinal);
        return unknown;
    }

    /// <summary>Applies <c>default</c>s top-down; drops non-nullable nulls that have no default.</summary>
    public static void ApplyDefaults(JsonNode? node, JsonObject? schema)
    {
        if (schema is null || node is null)
        {
            return;
        }

        if (node is JsonObject obj)
        {
            if (schema["properties"] is JsonObject props)
            {
                foreach (var (key, propNode) in props)
                {
                    if (propNode is not JsonObject prop)
                    {
                        continue;
                    }

                    var present = obj.TryGetPropertyValue(key, out var value);
                    if (present && value is null && !IsTrue(prop["nullable"]))
                    {
                        obj.Remove(key);
                        present = false;
                    }

                    if (!present && prop.TryGetPropertyValue("default", out var def))
                    {
                        obj[key] = def?.DeepClone();
                    }

                    if (obj[key] is { } child)
                    {
                        ApplyDefaults(child, prop);
                    }
                }
            }

            if (schema["additionalProperties"] is JsonObject additional)
            {
                foreach (var (_, value) in obj.ToList())
                {
                    ApplyDefaults(value, additional);
                }
            }
        }
        else if (node is JsonArray arr && schema["items"] is JsonObject items)
        {
            foreach (var item in arr)
            {
                ApplyDefaults(item, items);
            }
        }
    }

    /// <summary>Validates a (pruned, defaulted) custom resource; metadata, apiVersion and kind are not checked here.</summary>
    public static List<FieldError> Validate(JsonObject resource, JsonObject? schema)
    {
        var errors = new List<FieldError>();
        if (schema is null)
        {
            return errors;
        }

        var copy = (JsonObject)resource.DeepClone();
        copy.Remove("metadata");
        copy.Remove("apiVersion");
        copy.Remove("kind");
        var rootSchema = (JsonObject)schema.DeepClone();
        if (rootSchema["properties"] is JsonObject p)
        {
            p.Remove("metadata");
            p.Remove("apiVersion");
            p.Remove("kind");
        }

        if (rootSchema["required"] is JsonArray req)
        {
            foreach (var r in req.Where(r => Json.Str(r) is "metadata" or "apiVersion" or "kind").ToList())
            {
                req.Remove(r);
            }
        }

        ValidateNode(copy, rootSchema, "", errors);
        return errors;
    }

    private static void PruneObject(JsonObject obj, JsonObject schema, string path, List<string> unknown, bool isRoot)
    {
        var props = schema["properties"] as JsonObject;
        var additional = schema["additionalProperties"];
        var preserve = IsTrue(schema["x-kubernetes-preserve-unknown-fields"]);
        var embedded = isRoot || IsTrue(schema["x-kubernetes-embedded-resource"]);
        foreach (var (key, value) in obj.ToList())
        {
            var childPath = path.Length == 0 ? key : $"{path}.{key}";
            if (embedded && key is "apiVersion" or "kind")
            {
                continue;
            }

            if (embedded && key == "metadata")
            {
                if (value is JsonObject meta)
                {
                    foreach (var (mk, _) in meta.ToList())
                    {
                        if (!ObjectMetaFields.Contains(mk))
                        {
                            meta.Remove(mk);
                            unknown.Add($"{childPath}.{mk}");
                        }
                    }
                }

                continue;
            }

            if (props is not null && props[key] is JsonObject propSchema)
            {
                PruneValue(value, propSchema, childPath, unknown);
            }
            else if (additional is JsonObject addSchema)
            {
                PruneValue(value, addSchema, childPath, unknown);
            }
            else if (IsTrue(additional) || preserve)
            {
                continue;
            }
            else
            {
                obj.Remove(key);
                unknown.Add(childPath);
            }
        }
    }

    private static void PruneValue(JsonNode? value, JsonObject schema, string path, List<string> unknown)
    {
        switch (value)
        {
            case JsonObject o:
                PruneObject(o, schema, path, unknown, isRoot: false);
                break;
            case JsonArray a when schema["items"] is JsonObject items:
                for (var i = 0; i < a.Count; i++)
                {
                    PruneValue(a[i], items, $"{path}[{i}]", unknown);
                }

                break;
        }
    }

    private static void ValidateNode(JsonNode? node, JsonObject schema, string path, List<FieldError> errors)
    {
        var intOrString = IsTrue(schema["x-kubernetes-int-or-string"]);
        var type = Json.Str(schema, "type");
        var actual = Json.TypeName(node);
        var display = path.Length == 0 ? "" : path;

        if (node is null)
        {
            if (IsTrue(schema["nullable"]) || (type is null && !intOrString))
            {
                return;
            }

            errors.Add(FieldError.TypeInvalid(display, "null", $"{display} in body must be of type {(intOrString ? "integer,string" : type)}: \"null\""));
            return;
        }

        if (intOrString)
        {
            if (actual is not ("integer" or "string"))
            {
                errors.Add(FieldError.TypeInvalid(display, actual, $"{display} in body must be of type integer,string: \"{actual}\""));
                return;
            }
        }
        else if (type is not null && !TypeMatches(type, actual))
        {
            errors.Add(FieldError.TypeInvalid(display, actual, $"{display} in body must be of type {type}: \"{actual}\""));
            return;
        }

        if (schema["enum"] is JsonArray enumValues && !enumValues.Any(e => JsonNode.DeepEquals(e, node)))
        {
            errors.Add(FieldError.NotSupported(display, node,
                enumValues.Select(e => Json.Str(e) ?? e?.ToJsonString() ?? "null")));
        }

        switch (node)
        {
            case JsonValue v when actual == "string":
                ValidateString(v.GetValue<string>(), node, schema, display, errors);
                break;
            case JsonValue when actual is "integer" or "number":
                ValidateNumber(Json.Number(node)!.Value, node, schema, display, errors);
                break;
            case JsonArray arr:
                ValidateArray(arr, schema, display, errors);
                break;
            case JsonObject obj:
                ValidateObject(obj, schema, display, errors);
                break;
        }

        ValidateCombinators(node, schema, display, errors);
    }

    private static bool TypeMatches(string type, string actual) => type switch
    {
        "number" => actual is "number" or "integer",
        _ => type == actual,
    };

    private static void ValidateString(string s, JsonNode node, JsonObject schema, string path, List<FieldError> errors)
    {
        var length = new StringInfo(s).LengthInTextElements;
        if (Json.Int(schema["maxLength"]) is { } max && length > max)
        {
            errors.Add(FieldError.TooLong(path, max));
        }

        if (Json.Int(schema["minLength"]) is { } min && length < min)
        {
            errors.Add(FieldError.Invalid(path, node, $"{path} in body should be at least {min} chars long"));
        }

        if (Json.Str(schema, "pattern") is { } pattern && !Regex.IsMatch(s, pattern, RegexOptions.None, TimeSpan.FromSeconds(1)))
        {
            errors.Add(FieldError.Invalid(path, node, $"{path} in body should match '{pattern}'"));
        }

        if (Json.Str(schema, "format") is { } format && !FormatMatches(format, s))
        {
            errors.Add(FieldError.TypeInvalid(path, s, $"{path} in body must be of type {format}: {FieldError.Quote(s)}"));
        }
    }

    private static void ValidateNumber(double d, JsonNode node, JsonObject schema, string path, List<FieldError> errors)
    {
        if (Json.Number(schema["maximum"]) is { } max)
        {
            if (IsTrue(schema["exclusiveMaximum"]) ? d >= max : d > max)
            {
                var op = IsTrue(schema["exclusiveMaximum"]) ? "less than" : "less than or equal to";
                errors.Add(FieldError.Invalid(path, node, $"{path} in body should be {op} {G(max)}"));
            }
        }

        if (Json.Number(schema["minimum"]) is { } min)
        {
            if (IsTrue(schema["exclusiveMinimum"]) ? d <= min : d < min)
            {
                var op = IsTrue(schema["exclusiveMinimum"]) ? "greater than" : "greater than or equal to";
                errors.Add(FieldError.Invalid(path, node, $"{path} in body should be {op} {G(min)}"));
            }
        }

        if (Json.Number(schema["multipleOf"]) is { } multiple && multiple > 0 && Math.Abs(Math.IEEERemainder(d, multiple)) > 1e-9)
        {
            errors.Add(FieldError.Invalid(path, node, $"{path} in body should be a multiple of {G(multiple)}"));
        }
    }

    private static void ValidateArray(JsonArray arr, JsonObject schema, string path, List<FieldError> errors)
    {
        if (Json.Int(schema["maxItems"]) is { } max && arr.Count > max)
        {
            errors.Add(FieldError.TooMany(path, arr.Count, max));
        }

        if (Json.Int(schema["minItems"]) is { } min && arr.Count < min)
        {
            errors.Add(FieldError.Invalid(path, JsonValue.Create(arr.Count), $"{path} in body should have at least {min} items"));
        }

        if (IsTrue(schema["uniqueItems"]) || Json.Str(schema, "x-kubernetes-list-type") == "set")
        {
            for (var i = 0; i < arr.Count; i++)
            {
                for (var j = 0; j < i; j++)
                {
                    if (JsonNode.DeepEquals(arr[i], arr[j]))
                    {
                        errors.Add(new FieldError("FieldValueDuplicate", $"{path}[{i}]", "Duplicate value: " + FieldError.FormatValue(arr[i])));
                    }
                }
            }
        }

        if (schema["items"] is JsonObject items)
        {
            for (var i = 0; i < arr.Count; i++)
            {
                ValidateNode(arr[i], items, $"{path}[{i}]", errors);
            }
        }
    }

    private static void ValidateObject(JsonObject obj, JsonObject schema, string path, List<FieldError> errors)
    {
        string Child(string key) => path.Length == 0 ? key : $"{path}.{key}";

        if (schema["required"] is JsonArray required)
        {
            foreach (var r in required.Select(Json.Str).OfType<string>())
            {
                if (!obj.ContainsKey(r))
                {
                    errors.Add(FieldError.Required(Child(r)));
                }
            }
        }

        if (Json.Int(schema["maxProperties"]) is { } max && obj.Count > max)
        {
            errors.Add(FieldError.TooMany(path, obj.Count, max));
        }

        if (Json.Int(schema["minProperties"]) is { } min && obj.Count < min)
        {
            errors.Add(FieldError.Invalid(path, JsonValue.Create(obj.Count), $"{path} in body should have at least {min} properties"));
        }

        var props = schema["properties"] as JsonObject;
        foreach (var (key, value) in obj)
        {
            if (props?[key] is JsonObject propSchema)
            {
                ValidateNode(value, propSchema, Child(key), errors);
            }
            else if (schema["additionalProperties"] is JsonObject additional)
            {
                ValidateNode(value, additional, Child(key), errors);
            }
        }
    }

    private static void ValidateCombinators(JsonNode node, JsonObject schema, string path, List<FieldError> errors)
    {
        bool Passes(JsonObject s)
        {
            var e = new List<FieldError>();
            ValidateNode(node.DeepClone(), s, path, e);
            return e.Count == 0;
        }

        if (schema["allOf"] is JsonArray allOf)
        {
            foreach (var s in allOf.OfType<JsonObject>())
            {
                ValidateNode(node, s, path, errors);
            }
        }

        if (schema["anyOf"] is JsonArray anyOf && anyOf.Count > 0 && !anyOf.OfType<JsonObject>().Any(Passes))
        {
            errors.Add(FieldError.Invalid(path, node, $"{path} in body must validate at least one schema (anyOf)"));
        }

        if (schema["oneOf"] is JsonArray oneOf && oneOf.Count > 0 && oneOf.OfType<JsonObject>().Count(Passes) != 1)
        {
            errors.Add(FieldError.Invalid(path, node, $"{path} in body must validate one and only one schema (oneOf)"));
        }

        if (schema["not"] is JsonObject not && Passes(not))
        {
            errors.Add(FieldError.Invalid(path, node, $"{path} in body must not validate the schema (not)"));
        }
    }

    private static bool FormatMatches(string format, string s) => format switch
    {
        "date-time" or "datetime" => DateTimeOffset.TryParseExact(s,
            ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFFFK", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFFF'Z'"],
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _),
        "date" => DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
        "uuid" => Guid.TryParseExact(s, "D", out _),
        "ipv4" => IPAddress.TryParse(s, out var a4) && a4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && s.Count(c => c == '.') == 3,
        "ipv6" => IPAddress.TryParse(s, out var a6) && a6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6,
        "cidr" => IPNetwork.TryParse(s, out _),
        "byte" => IsBase64(s),
        "hostname" => Regex.IsMatch(s, @"^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*$") && s.Length <= 253,
        "email" => Regex.IsMatch(s, @"^[^@\s]+@[^@\s]+$"),
        "duration" => Regex.IsMatch(s, @"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"),
        _ => true,
    };

    private static bool IsBase64(string s)
    {
        Span<byte> buffer = new byte[(s.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(s, buffer, out _);
    }

    private static string G(double d) => d.ToString("G", CultureInfo.InvariantCulture);

    private static bool IsTrue(JsonNode? node) => node is JsonValue v && v.TryGetValue<bool>(out var b) && b;
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fim.Testing.KubeApi.Model;

/// <summary>Small helpers over System.Text.Json.Nodes for Kubernetes-shaped objects.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    public static JsonObject Metadata(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject m)
        {
            return m;
        }

        m = new JsonObject();
        obj["metadata"] = m;
        return m;
    }

    public static string? Str(JsonNode? node, string property) =>
        node is JsonObject o && o[property] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static string? Str(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static long? Int(JsonNode? node)
    {
        if (node is not JsonValue v)
        {
            return null;
        }

        if (v.TryGetValue<long>(out var l))
        {
            return l;
        }

        if (v.TryGetValue<int>(out var i))
        {
            return i;
        }

        if (v.TryGetValue<double>(out var d) && Math.Abs(d - Math.Round(d)) < double.Epsilon && Math.Abs(d) < 9e15)
        {
            return (long)d;
        }

        if (v.TryGetValue<decimal>(out var m) && decimal.Truncate(m) == m)
        {
            return (long)m;
        }

        return null;
    }

    public static double? Number(JsonNode? node)
    {
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            return null;
        }

        return v.TryGetValue<double>(out var d) ? d : double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture);
    }

    public static string Name(JsonObject obj) => Str(obj["metadata"], "name") ?? "";

    public static string Namespace(JsonObject obj) => Str(obj["metadata"], "namespace") ?? "";

    public static string? Uid(JsonObject obj) => Str(obj["metadata"], "uid");

    public static string? ResourceVersion(JsonObject obj) => Str(obj["metadata"], "resourceVersion");

    public static IEnumerable<string> Finalizers(JsonObject obj) =>
        obj["metadata"]?["finalizers"] is JsonArray a ? a.Select(Str).OfType<string>() : [];

    public static void SetFinalizers(JsonObject obj, IEnumerable<string> finalizers)
    {
        var list = finalizers.ToList();
        var meta = Metadata(obj);
        if (list.Count == 0)
        {
            meta.Remove("finalizers");
        }
        else
        {
            meta["finalizers"] = new JsonArray(list.Select(f => (JsonNode?)JsonValue.Create(f)).ToArray());
        }
    }

    public static IReadOnlyDictionary<string, string> Labels(JsonObject obj) => StringMap(obj["metadata"]?["labels"]);

    public static IReadOnlyDictionary<string, string> StringMap(JsonNode? node)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is JsonObject o)
        {
            foreach (var (k, v) in o)
            {
                result[k] = Str(v) ?? v?.ToJsonString() ?? "";
            }
        }

        return result;
    }

    public static bool IsTerminating(JsonObject obj) => obj["metadata"]?["deletionTimestamp"] is not null;

    public static JsonObject Clone(JsonObject obj) => (JsonObject)obj.DeepClone();

    public static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string TypeName(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            JsonValueKind.Number => Int(v) is not null && !v.ToJsonString().Contains('.') && !v.ToJsonString().Contains('e', StringComparison.OrdinalIgnoreCase) ? "integer" : "number",
            JsonValueKind.Null => "null",
            _ => "unknown",
        },
        _ => "unknown",
    };

    /// <summary>Parses JSON text to an object; a 400 BadRequest on anything else.</summary>
    public static JsonObject ParseObject(string text)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest($"json: cannot unmarshal request body: {e.Message}");
        }

        return node as JsonObject ?? throw ApiError.BadRequest("the request body must be a JSON object");
    }

    /// <summary>
    /// Whether everything but metadata (and status, when it is a subresource) is equal: what decides a generation bump.
    /// </summary>
    public static bool SpecEquals(JsonObject a, JsonObject b, bool ignoreStatus = true)
    {
        var x = Clone(a);
        var y = Clone(b);
        foreach (var o in new[] { x, y })
        {
            o.Remove("metadata");
            if (ignoreStatus)
            {
                o.Remove("status");
            }

            o.Remove("apiVersion");
            o.Remove("kind");
        }

        return JsonNode.DeepEquals(x, y);
    }
}

using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Patching;

/// <summary>RFC 6902 JSON Patch (<c>application/json-patch+json</c>): add, remove, replace, move, copy, test.</summary>
public static class JsonPatch
{
    public static JsonObject Apply(JsonObject target, string patchText)
    {
        JsonArray ops;
        try
        {
            ops = JsonNode.Parse(patchText) as JsonArray ?? throw new FormatException("not an array");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException)
        {
            throw ApiError.BadRequest($"error decoding patch: {e.Message}");
        }

        JsonNode root = target.DeepClone();
        foreach (var opNode in ops)
        {
            if (opNode is not JsonObject op)
            {
                throw ApiError.BadRequest("error decoding patch: each operation must be an object");
            }

            var name = Json.Str(op, "op") ?? throw ApiError.BadRequest("the server rejected our request due to an error in our request: missing 'op'");
            var path = Json.Str(op, "path") ?? throw Invalid($"missing 'path' in '{name}' operation");
            switch (name)
            {
                case "add":
                    root = Add(root, path, Value(op));
                    break;
                case "remove":
                    root = Remove(root, path, out _);
                    break;
                case "replace":
                    root = Remove(root, path, out _);
                    root = Add(root, path, Value(op));
                    break;
                case "move":
                    {
                        var from = Json.Str(op, "from") ?? throw Invalid("missing 'from' in 'move' operation");
                        root = Remove(root, from, out var moved);
                        root = Add(root, path, moved);
                        break;
                    }

                case "copy":
                    {
                        var from = Json.Str(op, "from") ?? throw Invalid("missing 'from' in 'copy' operation");
                        root = Add(root, path, Get(root, from)?.DeepClone());
                        break;
                    }

                case "test":
                    if (!JsonNode.DeepEquals(Get(root, path), Value(op)))
                    {
                        throw Invalid($"testing value {path} failed: test failed");
                    }

                    break;
                default:
                    throw Invalid($"Unexpected kind: {name}");
            }
        }

        return root as JsonObject ?? throw Invalid("the patch replaced the whole object with a non-object");
    }

    private static JsonNode? Value(JsonObject op) =>
        op.TryGetPropertyValue("value", out var v) ? v?.DeepClone() : throw Invalid("missing 'value' in operation");

    private static ApiError Invalid(string message) => new(422, "Invalid", message);

    private static List<string> Tokens(string pointer)
    {
        if (pointer.Length == 0)
        {
            return [];
        }

        if (!pointer.StartsWith('/'))
        {
            throw Invalid($"invalid JSON pointer \"{pointer}\"");
        }

        return pointer[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
    }

    private static JsonNode? Get(JsonNode root, string pointer)
    {
        JsonNode? node = root;
        foreach (var t in Tokens(pointer))
        {
            node = node switch
            {
                JsonObject o when o.TryGetPropertyValue(t, out var child) => child,
                JsonArray a when int.TryParse(t, out var i) && i >= 0 && i < a.Count => a[i],
                _ => throw Invalid($"doc is missing path: \"{pointer}\": missing value"),
            };
        }

        return node;
    }

    private static (JsonNode Parent, string Last) Parent(JsonNode root, string pointer)
    {
        var tokens = Tokens(pointer);
        JsonNode? node = root;
        foreach (var t in tokens.Take(tokens.Count - 1))
        {
            node = node switch
            {
                JsonObject o when o[t] is { } child => child,
                JsonArray a when int.TryParse(t, out var i) && i >= 0 && i < a.Count && a[i] is { } child => child,
                _ => throw Invalid($"doc is missing path: \"{pointer}\": missing value"),
            };
        }

        return (node!, tokens[^1]);
    }

    private static JsonNode Add(JsonNode root, string pointer, JsonNode? value)
    {
        if (pointer.Length == 0)
        {
            return value ?? throw Invalid("cannot replace the document with null");
        }

        var (parent, last) = Parent(root, pointer);
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw Invalid($"add operation does not apply: doc is missing path: \"{pointer}\": missing value");
        }

        return root;
    }

    private static JsonNode Remove(JsonNode root, string pointer, out JsonNode? removed)
    {
        var (parent, last) = Parent(root, pointer);
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out var v):
                o.Remove(last);
                removed = v;
                break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i < a.Count:
                removed = a[i];
                a.RemoveAt(i);
                break;
            default:
                throw Invalid($"doc is missing path: \"{pointer}\": missing value");
        }

        return root;
    }
}

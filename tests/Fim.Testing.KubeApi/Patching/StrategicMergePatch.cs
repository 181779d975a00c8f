using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Patching;

/// <summary>
/// An approximation of strategic merge patch (<c>application/strategic-merge-patch+json</c>) for built-in types.
/// The real server reads patch strategies from the Go structs; here they come from a table of well-known
/// list fields (containers/volumes/env/... merge by <c>name</c>, ports by <c>containerPort</c> or <c>port</c>,
/// volumeMounts by <c>mountPath</c>, conditions by <c>type</c>, ownerReferences by <c>uid</c>, finalizers as a set).
/// Every other list is replaced, maps merge like JSON merge patch. Directives handled: <c>$patch</c>
/// (replace/delete/merge), <c>$retainKeys</c>, <c>$deleteFromPrimitiveList/</c>, <c>$setElementOrder/</c>.
/// </summary>
public static class StrategicMergePatch
{
    private const string SetElementOrder = "$setElementOrder/";
    private const string DeleteFromPrimitiveList = "$deleteFromPrimitiveList/";

    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal)
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["ephemeralContainers"] = "name",
        ["volumes"] = "name",
        ["env"] = "name",
        ["imagePullSecrets"] = "name",
        ["resourceClaims"] = "name",
        ["hostAliases"] = "ip",
        ["volumeMounts"] = "mountPath",
        ["volumeDevices"] = "devicePath",
        ["conditions"] = "type",
        ["ownerReferences"] = "uid",
        ["topologySpreadConstraints"] = "topologyKey",
        ["secrets"] = "name",
    };

    private static readonly HashSet<string> PrimitiveSets = new(StringComparer.Ordinal) { "finalizers" };

    public static JsonObject Apply(JsonObject original, JsonObject patch) =>
        MergeMap(original, patch) ?? new JsonObject();

    /// <summary>Whether a primitive list merges as a set (finalizers).</summary>
    public static bool IsPrimitiveSet(string field) => PrimitiveSets.Contains(field);

    /// <summary>The merge key of a well-known built-in list field, or null when the list is replaced whole.</summary>
    public static string? ListMergeKey(string field, JsonArray? a, JsonArray? b) => MergeKeyFor(field, a, b ?? new JsonArray());

    private static string? MergeKeyFor(string field, JsonArray? original, JsonArray patch)
    {
        if (field == "ports")
        {
            // Container ports merge on containerPort, Service ports on port.
            var sample = patch.OfType<JsonObject>().Concat(original?.OfType<JsonObject>() ?? []);
            return sample.Any(o => o.ContainsKey("containerPort")) ? "containerPort" : "port";
        }

        return MergeKeys.GetValueOrDefault(field);
    }

    private static JsonObject? MergeMap(JsonNode? original, JsonObject patch)
    {
        var directive = Json.Str(patch, "$patch");
        if (directive == "delete")
        {
            return null;
        }

        if (directive == "replace")
        {
            return StripDirectives(patch);
        }

        var result = original is JsonObject o ? (JsonObject)o.DeepClone() : new JsonObject();
        foreach (var (key, value) in patch)
        {
            if (key.StartsWith('$'))
            {
                continue;
            }

            if (value is null)
            {
                result.Remove(key);
            }
            else if (value is JsonObject childPatch)
            {
                var merged = MergeMap(result[key], childPatch);
                if (merged is null)
                {
                    result.Remove(key);
                }
                else
                {
                    result[key] = merged;
                }
            }
            else if (value is JsonArray listPatch)
            {
                result[key] = MergeList(key, result[key] as JsonArray, listPatch);
            }
            else
            {
                result[key] = value.DeepClone();
            }
        }

        foreach (var (key, value) in patch)
        {
            if (key.StartsWith(DeleteFromPrimitiveList, StringComparison.Ordinal) && value is JsonArray remove
                && result[key[DeleteFromPrimitiveList.Length..]] is JsonArray list)
            {
                foreach (var item in list.ToList())
                {
                    if (remove.Any(r => JsonNode.DeepEquals(r, item)))
                    {
                        list.Remove(item);
                    }
                }
            }
        }

        foreach (var (key, value) in patch)
        {
            if (key.StartsWith(SetElementOrder, StringComparison.Ordinal) && value is JsonArray order)
            {
                var field = key[SetElementOrder.Length..];
                if (result[field] is JsonArray list)
                {
                    result[field] = Reorder(field, list, order);
                }
            }
        }

        if (patch["$retainKeys"] is JsonArray retain)
        {
            var keep = retain.Select(Json.Str).OfType<string>().ToHashSet(StringComparer.Ordinal);
            foreach (var key in result.Select(kv => kv.Key).ToList())
            {
                if (!keep.Contains(key))
                {
                    result.Remove(key);
                }
            }
        }

        return result;
    }

    private static JsonArray MergeList(string field, JsonArray? original, JsonArray patch)
    {
        if (patch.OfType<JsonObject>().Any(p => Json.Str(p, "$patch") == "replace"))
        {
            return new JsonArray(patch.OfType<JsonObject>().Where(p => Json.Str(p, "$patch") != "replace")
                .Select(p => (JsonNode?)StripDirectives(p)).ToArray());
        }

        if (PrimitiveSets.Contains(field))
        {
            var merged = original is null ? new JsonArray() : (JsonArray)original.DeepClone();
            foreach (var item in patch)
            {
                if (!merged.Any(m => JsonNode.DeepEquals(m, item)))
                {
                    merged.Add(item?.DeepClone());
                }
            }

            return merged;
        }

        var mergeKey = MergeKeyFor(field, original, patch);
        if (mergeKey is null || original is null)
        {
            return new JsonArray(patch.Where(p => p is not JsonObject po || Json.Str(po, "$patch") != "delete")
                .Select(p => p is JsonObject po ? StripDirectives(po) : p?.DeepClone()).ToArray());
        }

        var result = (JsonArray)original.DeepClone();
        foreach (var item in patch)
        {
            if (item is not JsonObject p)
            {
                continue;
            }

            var key = p[mergeKey];
            var index = result.Select((n, i) => (n, i)).FirstOrDefault(x => x.n is JsonObject o && JsonNode.DeepEquals(o[mergeKey], key), (null, -1)).i;
            if (Json.Str(p, "$patch") == "delete")
            {
                if (index >= 0)
                {
                    result.RemoveAt(index);
                }

                continue;
            }

            if (index >= 0)
            {
                result[index] = MergeMap(result[index], p);
            }
            else
            {
                result.Add(StripDirectives(p));
            }
        }

        return result;
    }

    private static JsonArray Reorder(string field, JsonArray list, JsonArray order)
    {
        var mergeKey = MergeKeyFor(field, list, order);
        var remaining = list.Select(n => n?.DeepClone()).ToList();
        var ordered = new List<JsonNode?>();
        foreach (var o in order)
        {
            var idx = remaining.FindIndex(n => mergeKey is not null && n is JsonObject no && o is JsonObject oo
                ? JsonNode.DeepEquals(no[mergeKey], oo[mergeKey])
                : JsonNode.DeepEquals(n, o));
            if (idx >= 0)
            {
                ordered.Add(remaining[idx]);
                remaining.RemoveAt(idx);
            }
        }

        ordered.AddRange(remaining);
        return new JsonArray(ordered.ToArray());
    }

    private static JsonObject StripDirectives(JsonObject o)
    {
        var copy = new JsonObject();
        foreach (var (k, v) in o)
        {
            if (k.StartsWith('$'))
            {
                continue;
            }

            copy[k] = v switch
            {
                JsonObject child => StripDirectives(child),
                _ => v?.DeepClone(),
            };
        }

        return copy;
    }
}

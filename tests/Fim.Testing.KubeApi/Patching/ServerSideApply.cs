using System.Text;
using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Patching;

/// <summary>
/// A small server-side apply: field ownership per field manager (leaf fields; associative lists by key, sets by value,
/// other lists atomic), conflicts between apply managers, removal of fields a manager stops applying, and
/// ownership taken away by plain updates. List semantics come from the CRD schema
/// (<c>x-kubernetes-list-type</c>/<c>x-kubernetes-list-map-keys</c>) or, for built-ins, from the strategic-merge table.
/// Not modelled: conflicts with non-apply managers (their ownership is kept for managedFields only),
/// <c>x-kubernetes-map-type: atomic</c>.
/// </summary>
public static class ServerSideApply
{
    /// <summary>One step of a field path.</summary>
    public abstract record Segment;

    public sealed record FieldSegment(string Name) : Segment;

    public sealed record KeySegment(IReadOnlyList<KeyValuePair<string, JsonNode?>> Keys) : Segment;

    public sealed record ValueSegment(JsonNode? Value) : Segment;

    /// <summary>A field path with its canonical text (e.g. <c>.spec.containers[name="main"].image</c>).</summary>
    public sealed record FieldPath(string Text, IReadOnlyList<Segment> Segments);

    /// <summary>An apply conflict: another manager owns the field with a different value.</summary>
    public sealed record Conflict(string Manager, string Path);

    private static readonly HashSet<string> IdentityMetadata = new(StringComparer.Ordinal)
    {
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
        "deletionGracePeriodSeconds", "managedFields", "selfLink",
    };

    /// <summary>The leaf fields of an object (without identity metadata, and without status when it is a subresource).</summary>
    public static Dictionary<string, FieldPath> Leaves(ResourceType type, JsonObject obj)
    {
        var result = new Dictionary<string, FieldPath>(StringComparer.Ordinal);
        var root = new Context(type, type.Schema, InMetadata: false, AtRoot: true);
        foreach (var (key, value) in obj)
        {
            if (key is "apiVersion" or "kind" || (key == "status" && type.HasStatus))
            {
                continue;
            }

            if (key == "metadata" && value is JsonObject meta)
            {
                foreach (var (mk, mv) in meta)
                {
                    if (!IdentityMetadata.Contains(mk))
                    {
                        Walk(mv, [new FieldSegment("metadata"), new FieldSegment(mk)], mk, root with { InMetadata = true, AtRoot = false }, result);
                    }
                }

                continue;
            }

            Walk(value, [new FieldSegment(key)], key, root.Property(key), result);
        }

        return result;
    }

    /// <summary>Merges an applied configuration into a live object with apply's list semantics.</summary>
    public static JsonObject Merge(ResourceType type, JsonObject live, JsonObject applied)
    {
        var root = new Context(type, type.Schema, InMetadata: false, AtRoot: true);
        var result = (JsonObject)live.DeepClone();
        foreach (var (key, value) in applied)
        {
            var ctx = key == "metadata" ? root with { InMetadata = true, AtRoot = false } : root.Property(key);
            result[key] = MergeNode(result[key], value, key, ctx);
        }

        return result;
    }

    /// <summary>The value at a path, or null when absent.</summary>
    public static JsonNode? Get(JsonNode? node, IReadOnlyList<Segment> path)
    {
        foreach (var seg in path)
        {
            node = seg switch
            {
                FieldSegment f => node is JsonObject o ? o[f.Name] : null,
                KeySegment k => (node as JsonArray)?.FirstOrDefault(e => e is JsonObject eo && KeyMatches(eo, k)),
                ValueSegment v => (node as JsonArray)?.FirstOrDefault(e => JsonNode.DeepEquals(e, v.Value)),
                _ => null,
            };
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }

    /// <summary>Removes what a manager no longer applies and nobody else owns; prunes what that leaves empty.</summary>
    public static void RemoveFields(JsonObject obj, IEnumerable<FieldPath> paths, ISet<string> stillOwned)
    {
        var emptied = new List<IReadOnlyList<Segment>>();
        foreach (var p in paths.OrderByDescending(p => p.Segments.Count))
        {
            var segs = p.Segments;
            var parentPath = segs.Take(segs.Count - 1).ToList();
            var parent = Get(obj, parentPath);
            switch (segs[^1])
            {
                case FieldSegment f when parent is JsonObject po:
                    // The key fields of an associative list element go with the element, not on their own.
                    if (parentPath.Count > 0 && parentPath[^1] is KeySegment ks && ks.Keys.Any(k => k.Key == f.Name))
                    {
                        emptied.Add(parentPath);
                        continue;
                    }

                    po.Remove(f.Name);
                    emptied.Add(parentPath);
                    break;
                case ValueSegment v when parent is JsonArray pa:
                    foreach (var item in pa.Where(e => JsonNode.DeepEquals(e, v.Value)).ToList())
                    {
                        pa.Remove(item);
                    }

                    break;
            }
        }

        foreach (var path in emptied.OrderByDescending(p => p.Count))
        {
            Prune(obj, path, stillOwned);
        }
    }

    private static void Prune(JsonObject obj, IReadOnlyList<Segment> path, ISet<string> stillOwned)
    {
        for (var depth = path.Count; depth > 0; depth--)
        {
            var prefix = path.Take(depth).ToList();
            var text = Text(prefix);
            if (stillOwned.Any(o => o == text || o.StartsWith(text + ".", StringComparison.Ordinal) || o.StartsWith(text + "[", StringComparison.Ordinal)))
            {
                return;
            }

            var node = Get(obj, prefix);
            var parent = Get(obj, prefix.Take(depth - 1).ToList());
            var onlyKeys = prefix[^1] is KeySegment key && node is JsonObject no && no.All(kv => key.Keys.Any(k => k.Key == kv.Key));
            var empty = node is JsonObject { Count: 0 } || onlyKeys;
            if (!empty)
            {
                return;
            }

            switch (prefix[^1], parent)
            {
                case (FieldSegment f, JsonObject po):
                    po.Remove(f.Name);
                    break;
                case (KeySegment, JsonArray pa):
                    pa.Remove(node);
                    break;
                default:
                    return;
            }
        }
    }

    /// <summary>Leaves whose value differs between two states (what a plain update takes away from apply managers).</summary>
    public static IEnumerable<string> Changed(ResourceType type, JsonObject before, JsonObject after)
    {
        var a = Leaves(type, before);
        var b = Leaves(type, after);
        foreach (var (text, path) in a.Concat(b).DistinctBy(kv => kv.Key))
        {
            if (!JsonNode.DeepEquals(Get(before, path.Segments), Get(after, path.Segments)))
            {
                yield return text;
            }
        }
    }

    public static string Text(IEnumerable<Segment> segments)
    {
        var sb = new StringBuilder();
        foreach (var s in segments)
        {
            switch (s)
            {
                case FieldSegment f:
                    sb.Append('.').Append(f.Name);
                    break;
                case KeySegment k:
                    sb.Append('[').Append(string.Join(",", k.Keys.Select(kv => $"{kv.Key}={kv.Value?.ToJsonString(Json.Compact) ?? "null"}"))).Append(']');
                    break;
                case ValueSegment v:
                    sb.Append("[=").Append(v.Value?.ToJsonString(Json.Compact) ?? "null").Append(']');
                    break;
            }
        }

        return sb.ToString();
    }

    private static void Walk(JsonNode? node, List<Segment> prefix, string fieldName, Context ctx, Dictionary<string, FieldPath> result)
    {
        switch (node)
        {
            case JsonObject o when o.Count > 0:
                foreach (var (key, value) in o)
                {
                    Walk(value, [.. prefix, new FieldSegment(key)], key, ctx.Property(key), result);
                }

                break;
            case JsonArray a:
                var (kind, keys) = ctx.ListKind(fieldName, a, null);
                if (kind == "map")
                {
                    foreach (var item in a.OfType<JsonObject>())
                    {
                        var seg = new KeySegment(keys.Select(k => KeyValuePair.Create(k, item[k]?.DeepClone())).ToList());
                        foreach (var (key, value) in item)
                        {
                            Walk(value, [.. prefix, seg, new FieldSegment(key)], key, ctx.Items().Property(key), result);
                        }
                    }
                }
                else if (kind == "set")
                {
                    foreach (var item in a)
                    {
                        Add([.. prefix, new ValueSegment(item?.DeepClone())]);
                    }
                }
                else
                {
                    Add(prefix);
                }

                break;
            default:
                Add(prefix);
                break;
        }

        void Add(List<Segment> segs)
        {
            var text = Text(segs);
            result[text] = new FieldPath(text, segs);
        }
    }

    private static JsonNode? MergeNode(JsonNode? live, JsonNode? applied, string fieldName, Context ctx)
    {
        switch (applied)
        {
            case JsonObject ao:
                var result = live is JsonObject lo ? (JsonObject)lo.DeepClone() : new JsonObject();
                foreach (var (key, value) in ao)
                {
                    result[key] = MergeNode(result[key], value, key, ctx.Property(key));
                }

                return result;
            case JsonArray aa:
                var (kind, keys) = ctx.ListKind(fieldName, live as JsonArray, aa);
                if (kind == "map" && live is JsonArray la)
                {
                    var merged = (JsonArray)la.DeepClone();
                    foreach (var item in aa.OfType<JsonObject>())
                    {
                        var seg = new KeySegment(keys.Select(k => KeyValuePair.Create(k, item[k])).ToList());
                        var existing = merged.FirstOrDefault(e => e is JsonObject eo && KeyMatches(eo, seg));
                        if (existing is null)
                        {
                            merged.Add(item.DeepClone());
                        }
                        else
                        {
                            var index = merged.IndexOf(existing);
                            merged[index] = MergeNode(existing, item, fieldName, ctx.Items());
                        }
                    }

                    return merged;
                }

                if (kind == "set" && live is JsonArray ls)
                {
                    var merged = (JsonArray)ls.DeepClone();
                    foreach (var item in aa)
                    {
                        if (!merged.Any(m => JsonNode.DeepEquals(m, item)))
                        {
                            merged.Add(item?.DeepClone());
                        }
                    }

                    return merged;
                }

                return aa.DeepClone();
            default:
                return applied?.DeepClone();
        }
    }

    private static bool KeyMatches(JsonObject element, KeySegment key) =>
        key.Keys.All(k => JsonNode.DeepEquals(element[k.Key], k.Value));

    /// <summary>Where in the object (and its schema) a value sits, to decide list semantics.</summary>
    private sealed record Context(ResourceType Type, JsonObject? Schema, bool InMetadata, bool AtRoot)
    {
        public Context Property(string name)
        {
            if (!Type.IsCustom || InMetadata)
            {
                return this with { AtRoot = false };
            }

            var child = Schema?["properties"]?[name] as JsonObject ?? Schema?["additionalProperties"] as JsonObject;
            return this with { Schema = child, AtRoot = false };
        }

        public Context Items() =>
            !Type.IsCustom || InMetadata ? this : this with { Schema = Schema?["items"] as JsonObject };

        public (string Kind, IReadOnlyList<string> Keys) ListKind(string field, JsonArray? a, JsonArray? b)
        {
            if (Type.IsCustom && !InMetadata)
            {
                return Json.Str(Schema, "x-kubernetes-list-type") switch
                {
                    "map" => ("map", (Schema?["x-kubernetes-list-map-keys"] as JsonArray)?.Select(Json.Str).OfType<string>().ToList() ?? []),
                    "set" => ("set", []),
                    _ => ("atomic", []),
                };
            }

            if (StrategicMergePatch.IsPrimitiveSet(field))
            {
                return ("set", []);
            }

            return StrategicMergePatch.ListMergeKey(field, a, b) is { } key ? ("map", [key]) : ("atomic", []);
        }
    }
}

using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Fim.Operator.Controllers;

/// <summary>Whose a live child is: the pool's (in sync or not), one to adopt, or someone else's (a conflict).</summary>
public sealed record ChildOwnership(string? Conflict, bool Adopts);

/// <summary>
/// Pure checks of a desired child (the operator's whole applied configuration) against the live one from the cache.
/// Children left by a restored pool (same kind and name, another uid) or carrying the pool label without an owner are
/// adopted; a child controlled by anything else is a conflict and is left alone.
/// </summary>
public static class ChildSync
{
    public static ChildOwnership Ownership(V1OwnerReference ours, JsonObject live, string adoptLabel)
    {
        var kind = live["kind"]?.GetValue<string>() ?? "object";
        var name = live["metadata"]?["name"]?.GetValue<string>() ?? "";
        var controller = (live["metadata"]?["ownerReferences"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .FirstOrDefault(r => r["controller"]?.GetValue<bool>() == true);
        if (controller is not null)
        {
            var (cKind, cName, cVersion) = (Str(controller, "kind"), Str(controller, "name"), Str(controller, "apiVersion"));
            if (cKind != ours.Kind || cName != ours.Name || ApiGroup(cVersion) != ApiGroup(ours.ApiVersion))
            {
                return new ChildOwnership($"{kind} {name} is controlled by {cKind} {cName}", false);
            }

            return new ChildOwnership(null, Str(controller, "uid") != ours.Uid);
        }

        return live["metadata"]?["labels"]?[adoptLabel] is null
            ? new ChildOwnership($"{kind} {name} exists and is not managed by the operator (no {adoptLabel} label)", false)
            : new ChildOwnership(null, true);
    }

    /// <summary>Every value in desired is present and equal in live (objects recursively; arrays element by element, same length).</summary>
    public static bool IsSubset(JsonNode? desired, JsonNode? live)
    {
        switch (desired)
        {
            case null:
                return true;
            case JsonObject o:
                return live is JsonObject l && o.All(p => IsSubset(p.Value, l[p.Key]));
            case JsonArray a:
                return live is JsonArray la && la.Count == a.Count && a.Select((x, i) => IsSubset(x, la[i])).All(b => b);
            default:
                return live is JsonValue && JsonNode.DeepEquals(desired, live);
        }
    }

    public static JsonObject Node(object o) => o as JsonObject ?? (JsonObject)JsonNode.Parse(KubernetesJson.Serialize(o))!;

    private static string Str(JsonObject o, string name) => o[name]?.GetValue<string>() ?? "";

    private static string ApiGroup(string apiVersion) => apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "";
}

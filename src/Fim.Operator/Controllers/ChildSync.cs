using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Fim.Operator.Controllers;

/// <summary>What to do with one live child: nothing, replace it with Updated, or leave it (Conflict: someone else owns it).</summary>
public sealed record ChildDecision(ChildAction Action, JsonObject? Updated = null, string? Reason = null, bool Adopts = false);

public enum ChildAction
{
    InSync,
    Update,
    Conflict,
}

/// <summary>
/// Pure comparison of a desired child with the live one, on the fields the operator owns only: labels and annotations
/// it sets (others are kept), its controller ownerReference, and the listed top-level paths (e.g. spec.template). Live
/// values the server or others added (defaults, clusterIP, spec.replicas under an HPA) are not differences: desired
/// must be a subset of live. Children left by a restored pool (same kind and name, another uid) or carrying the pool
/// label without an owner are adopted; a child controlled by anything else is a conflict.
/// </summary>
public static class ChildSync
{
    public static ChildDecision Decide(IKubernetesObject<V1ObjectMeta> desired, IKubernetesObject<V1ObjectMeta> live, IReadOnlyList<string> ownedPaths, string adoptLabel)
    {
        var want = Node(desired);
        var have = Node(live);
        var ours = desired.Metadata.OwnerReferences.Single(r => r.Controller == true);
        var controller = live.Metadata.OwnerReferences?.FirstOrDefault(r => r.Controller == true);
        if (controller is not null && (controller.Kind != ours.Kind || controller.Name != ours.Name || ApiGroup(controller.ApiVersion) != ApiGroup(ours.ApiVersion)))
        {
            return new ChildDecision(ChildAction.Conflict, Reason: $"{live.Kind} {live.Metadata.Name} is controlled by {controller.Kind} {controller.Name}");
        }

        if (controller is null && live.Metadata.Labels?.TryGetValue(adoptLabel, out var v) != true)
        {
            return new ChildDecision(ChildAction.Conflict, Reason: $"{live.Kind} {live.Metadata.Name} exists and is not managed by the operator (no {adoptLabel} label)");
        }

        var inSync = controller?.Uid == ours.Uid
            && IsSubset(want["metadata"]?["labels"], have["metadata"]?["labels"])
            && IsSubset(want["metadata"]?["annotations"], have["metadata"]?["annotations"])
            && ownedPaths.All(p => IsSubset(At(want, p), At(have, p)));
        if (inSync)
        {
            return new ChildDecision(ChildAction.InSync);
        }

        var updated = (JsonObject)have.DeepClone();
        var meta = (JsonObject)updated["metadata"]!;
        MergeMap(meta, "labels", want["metadata"]?["labels"]);
        MergeMap(meta, "annotations", want["metadata"]?["annotations"]);
        var refs = new JsonArray();
        foreach (var r in (meta["ownerReferences"] as JsonArray ?? []).Where(r => r?["controller"]?.GetValue<bool>() != true))
        {
            refs.Add(r!.DeepClone());
        }

        refs.Add(JsonNode.Parse(KubernetesJson.Serialize(ours)));
        meta["ownerReferences"] = refs;
        foreach (var p in ownedPaths)
        {
            Set(updated, p, At(want, p)?.DeepClone());
        }

        return new ChildDecision(ChildAction.Update, updated, Adopts: controller?.Uid != ours.Uid);
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

    public static JsonObject Node(object o) => (JsonObject)JsonNode.Parse(KubernetesJson.Serialize(o))!;

    private static string ApiGroup(string apiVersion) => apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "";

    private static JsonNode? At(JsonNode root, string path)
    {
        JsonNode? n = root;
        foreach (var part in path.Split('.'))
        {
            n = n?[part];
        }

        return n;
    }

    private static void Set(JsonObject root, string path, JsonNode? value)
    {
        var parts = path.Split('.');
        var n = root;
        foreach (var part in parts[..^1])
        {
            if (n[part] is not JsonObject next)
            {
                next = [];
                n[part] = next;
            }

            n = next;
        }

        if (value is null)
        {
            n.Remove(parts[^1]);
        }
        else
        {
            n[parts[^1]] = value;
        }
    }

    private static void MergeMap(JsonObject meta, string name, JsonNode? wanted)
    {
        if (wanted is not JsonObject w)
        {
            return;
        }

        if (meta[name] is not JsonObject target)
        {
            target = [];
            meta[name] = target;
        }

        foreach (var (k, v) in w)
        {
            target[k] = v?.DeepClone();
        }
    }
}

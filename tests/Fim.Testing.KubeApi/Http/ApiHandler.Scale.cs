using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Model;
using Fim.Testing.KubeApi.Printing;
using Fim.Testing.KubeApi.Storage;

namespace Fim.Testing.KubeApi.Http;

/// <summary>The scale subresource: autoscaling/v1 Scale mapped onto specReplicasPath/statusReplicasPath.</summary>
internal sealed partial class ApiHandler
{
    private static JsonObject ScaleOf(ResourceType t, JsonObject obj)
    {
        var scale = t.Scale!;
        var meta = obj["metadata"] as JsonObject;
        var scaleMeta = new JsonObject();
        foreach (var f in new[] { "name", "namespace", "uid", "resourceVersion", "creationTimestamp" })
        {
            if (meta?[f] is { } v)
            {
                scaleMeta[f] = v.DeepClone();
            }
        }

        var status = new JsonObject { ["replicas"] = Json.Int(JsonPathLite.Evaluate(obj, scale.StatusReplicasPath).FirstOrDefault()) ?? 0 };
        string? selector = null;
        if (scale.LabelSelectorPath is { } lsp)
        {
            selector = Json.Str(JsonPathLite.Evaluate(obj, lsp).FirstOrDefault());
        }
        else if (obj["spec"]?["selector"]?["matchLabels"] is JsonObject ml)
        {
            selector = string.Join(",", ml.Select(kv => $"{kv.Key}={Json.Str(kv.Value)}"));
        }

        if (selector is not null)
        {
            status["selector"] = selector;
        }

        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = scaleMeta,
            ["spec"] = new JsonObject { ["replicas"] = Json.Int(JsonPathLite.Evaluate(obj, scale.SpecReplicasPath).FirstOrDefault()) ?? 0 },
            ["status"] = status,
        };
    }

    private JsonObject UpdateScale(ResourceType t, string ns, string name, JsonObject scaleBody, WriteContext wc)
    {
        var replicas = Json.Int(scaleBody["spec"]?["replicas"]) ?? 0;
        JsonNode patch = JsonValue.Create(replicas);
        foreach (var segment in t.Scale!.SpecReplicasPath.TrimStart('.').Split('.').Reverse())
        {
            patch = new JsonObject { [segment] = patch };
        }

        if (Json.Str(scaleBody["metadata"], "resourceVersion") is { Length: > 0 } rv)
        {
            ((JsonObject)patch)["metadata"] = new JsonObject { ["resourceVersion"] = rv };
        }

        var updated = store.Patch(t, ns, name, PatchKind.Merge, patch.ToJsonString(), null, wc, force: false);
        return ScaleOf(t, updated);
    }
}

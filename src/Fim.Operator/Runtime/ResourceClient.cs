using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Fim.Operator.Runtime;

/// <summary>Writes to one custom resource kind: status through the status subresource, finalizers with a precondition.</summary>
public sealed class ResourceClient(IKubernetes client, string group, string version, string plural)
{
    /// <summary>Merge-patches .status (null fields are removed) through /status.</summary>
    public Task PatchStatusAsync<TStatus>(string ns, string name, TStatus status, CancellationToken ct)
    {
        var body = new JsonObject { ["status"] = JsonNode.Parse(KubernetesJson.Serialize(status)) is JsonObject o ? WithNulls(o, status) : null };
        return client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch(body.ToJsonString(), V1Patch.PatchType.MergePatch), group, version, ns, plural, name, cancellationToken: ct);
    }

    /// <summary>Sets metadata.finalizers; fails with 409 if the object changed since resourceVersion.</summary>
    public Task SetFinalizersAsync(string ns, string name, string resourceVersion, IReadOnlyList<string> finalizers, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["resourceVersion"] = resourceVersion,
                ["finalizers"] = new JsonArray([.. finalizers.Select(f => (JsonNode)JsonValue.Create(f))]),
            },
        };
        return client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch(body.ToJsonString(), V1Patch.PatchType.MergePatch), group, version, ns, plural, name, cancellationToken: ct);
    }

    /// <summary>Top-level status properties that are null are sent as explicit nulls so that merge patch removes them.</summary>
    private static JsonObject WithNulls<TStatus>(JsonObject serialized, TStatus status)
    {
        foreach (var p in typeof(TStatus).GetProperties())
        {
            var name = JsonNamingPolicy.CamelCase.ConvertName(p.Name);
            if (!serialized.ContainsKey(name) && p.GetValue(status) is null && !Attribute.IsDefined(p, typeof(Api.OwnedElsewhereAttribute)))
            {
                serialized[name] = null;
            }
        }

        return serialized;
    }
}

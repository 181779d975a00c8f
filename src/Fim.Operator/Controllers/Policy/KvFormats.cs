using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Fim.Operator.Api;

namespace Fim.Operator.Controllers.Policy;

/// <summary>An agent's heartbeat as far as the operator reads it.</summary>
public sealed record AgentHeartbeat(string AgentId, IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, long> AppliedPolicies, DateTimeOffset? Time);

/// <summary>
/// The KV value formats shared with the agent (docs/agent-connected.md), in one place:
/// fim-policies value v1 <c>{"schemaVersion":1,"revision":N,"name":"ns/name","selector":{matchLabels,matchExpressions},"spec":{PolicySpec}}</c>;
/// fim-agents value v1: a heartbeat with "agentId", "labels", "appliedPolicies" (name -> revision), "time".
/// </summary>
public static class KvFormats
{
    public const int PolicySchemaVersion = 1;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The policy spec as Fim.Core's reader takes it: camelCase, unset fields absent, no selector.</summary>
    public static JsonObject CoreSpec(FimPolicySpec spec)
    {
        var node = (JsonObject)JsonSerializer.SerializeToNode(spec, Json)!;
        node.Remove("selector");
        return node;
    }

    public static byte[] PolicyValue(string ns, string name, long revision, FimPolicySpec spec)
    {
        var doc = new JsonObject
        {
            ["schemaVersion"] = PolicySchemaVersion,
            ["revision"] = revision,
            ["name"] = $"{ns}/{name}",
        };
        if (spec.Selector is { } selector)
        {
            doc["selector"] = JsonSerializer.SerializeToNode(selector, Json);
        }

        doc["spec"] = CoreSpec(spec);
        return JsonSerializer.SerializeToUtf8Bytes(doc, Json);
    }

    /// <summary>The revision in a stored policy value, or null when it cannot be read.</summary>
    public static long? ReadRevision(ReadOnlySpan<byte> value)
    {
        try
        {
            return JsonNode.Parse(value) is JsonObject o && o["revision"] is JsonValue v && v.TryGetValue<long>(out var r) ? r : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The heartbeat, or null when the value is not one (a broken agent must not break policy status).</summary>
    public static AgentHeartbeat? ParseHeartbeat(string key, ReadOnlySpan<byte> value)
    {
        try
        {
            var hb = JsonSerializer.Deserialize<HeartbeatDto>(value, Json);
            if (hb is null)
            {
                return null;
            }

            var applied = hb.AppliedPolicies ?? [];
            return new AgentHeartbeat(hb.AgentId ?? key, hb.Labels ?? [], applied, hb.Time);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record HeartbeatDto(
        string? AgentId,
        Dictionary<string, string>? Labels,
        Dictionary<string, long>? AppliedPolicies,
        DateTimeOffset? Time);
}

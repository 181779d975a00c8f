using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Fim.Contracts;
using Fim.Operator.Api;

namespace Fim.Operator.Controllers.Policy;

/// <summary>A FimPolicy as the KV fim-policies value agents read: the shared <see cref="PolicyDocument"/>.</summary>
public static class PolicyDocuments
{
    private static readonly JsonSerializerOptions SpecJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The policy spec as Fim.Core's reader takes it: camelCase, unset fields absent, no selector.</summary>
    public static JsonObject CoreSpec(FimPolicySpec spec)
    {
        var node = (JsonObject)JsonSerializer.SerializeToNode(spec, SpecJson)!;
        node.Remove("selector");
        node.Remove("nodeMaintenance"); // the operator's, not the agents'
        return node;
    }

    public static PolicyDocument For(string ns, string name, long revision, FimPolicySpec spec) => new()
    {
        Revision = revision,
        Name = Subjects.PolicyName(ns, name),
        Selector = spec.Selector?.ToLabelSelector(),
        Spec = JsonSerializer.SerializeToElement(CoreSpec(spec), SpecJson),
    };

    public static byte[] PolicyValue(string ns, string name, long revision, FimPolicySpec spec) =>
        ContractJson.ToUtf8(For(ns, name, revision, spec));

    /// <summary>The revision in a stored policy value, or null when it cannot be read.</summary>
    public static long? ReadRevision(ReadOnlySpan<byte> value)
    {
        try
        {
            return JsonSerializer.Deserialize(value, ContractJson.Default.PolicyDocument)?.Revision;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

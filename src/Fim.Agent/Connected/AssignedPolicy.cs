using System.Text.Json;
using Fim.Contracts;
using Fim.Core.Policy;

namespace Fim.Agent.Connected;

/// <summary>
/// A policy this agent may run: a KV fim-policies <see cref="PolicyDocument"/> (key "&lt;namespace&gt;.&lt;name&gt;")
/// with its spec compiled, or a local policy file. The spec is read by the same strict reader as a policy file.
/// <see cref="Parse"/> never throws on bad input: it returns the problem instead.
/// </summary>
public sealed record AssignedPolicy(string Key, string Name, long Revision, LabelSelector Selector, CompiledPolicy Policy)
{
    public const string LocalKey = "_local";

    /// <summary>The policy, or (with whatever name and revision could be read) why it is invalid.</summary>
    public static (AssignedPolicy? Policy, string? Name, long Revision, string? Error) Parse(string key, ReadOnlySpan<byte> value)
    {
        PolicyDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize(value, ContractJson.Default.PolicyDocument);
        }
        catch (JsonException e)
        {
            return (null, null, 0, $"the value is not valid JSON for a policy document (a JSON object with schemaVersion, revision, name, selector, spec): {e.Message}");
        }
        if (doc is null)
        {
            return (null, null, 0, "the value must be a JSON object {\"revision\", \"name\", \"spec\"}");
        }
        var (name, revision) = (doc.Name, doc.Revision);
        if (doc.SchemaVersion != PolicyDocument.CurrentSchemaVersion)
        {
            return (null, name, revision, $"schemaVersion {doc.SchemaVersion} is not supported (this agent reads {PolicyDocument.CurrentSchemaVersion})");
        }
        if (string.IsNullOrWhiteSpace(name))
        {
            return (null, name, revision, "'name' is required (the FimPolicy's namespace/name)");
        }
        if (revision <= 0)
        {
            return (null, name, revision, "'revision' is required: a positive integer that grows with every change");
        }
        if (doc.Spec is not { ValueKind: JsonValueKind.Object } spec)
        {
            return (null, name, revision, "'spec' is required: the policy (FimPolicy spec) as a JSON object");
        }
        if (doc.Selector?.Problem() is { } problem)
        {
            return (null, name, revision, $"selector: {problem}");
        }
        try
        {
            var policySpec = PolicyLoader.LoadYaml(spec.GetRawText(), $"fim-policies/{key}");
            policySpec.Name = name;
            var compiled = PolicyCompiler.Compile(policySpec, $"fim-policies/{key} spec");
            var selector = doc.Selector ?? new LabelSelector { MatchLabels = compiled.Selector };
            return (new AssignedPolicy(key, name, revision, selector, compiled), name, revision, null);
        }
        catch (PolicyException e)
        {
            return (null, name, revision, e.Message);
        }
    }

    /// <summary>A local policy file: always selected, revision 0.</summary>
    public static AssignedPolicy Local(CompiledPolicy policy) => new(LocalKey, policy.Name, 0, LabelSelector.Everything, policy);
}

using System.Text.Json;
using Fim.Core.Policy;

namespace Fim.Agent.Connected;

/// <summary>
/// A policy as the operator writes it to KV fim-policies (key "&lt;namespace&gt;.&lt;name&gt;"), version 1:
/// <c>{"schemaVersion":1, "revision":7, "name":"ns/name", "selector":{"matchLabels":{..},"matchExpressions":[..]}, "spec":{PolicySpec}}</c>.
/// "selector" is optional; without it the spec's own "selector" map is the matchLabels. "spec" is read by the same
/// strict reader as a policy file. <see cref="Parse"/> never throws on bad input: it returns the problem instead.
/// </summary>
public sealed record PolicyDocument(string Key, string Name, long Revision, LabelSelector Selector, CompiledPolicy Policy)
{
    public const int SchemaVersion = 1;
    public const string LocalKey = "_local";

    /// <summary>The policy, or (with whatever name and revision could be read) why it is invalid.</summary>
    public static (PolicyDocument? Document, string? Name, long Revision, string? Error) Parse(string key, ReadOnlySpan<byte> value)
    {
        string? name = null;
        long revision = 0;
        try
        {
            using var doc = JsonDocument.Parse(value.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null, 0, "the value must be a JSON object {\"revision\", \"name\", \"spec\"}");
            }
            if (root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
            {
                name = n.GetString();
            }
            if (root.TryGetProperty("revision", out var r) && r.ValueKind == JsonValueKind.Number && r.TryGetInt64(out var rev))
            {
                revision = rev;
            }
            if (root.TryGetProperty("schemaVersion", out var v) && (v.ValueKind != JsonValueKind.Number || v.GetInt32() != SchemaVersion))
            {
                return (null, name, revision, $"schemaVersion {v} is not supported (this agent reads {SchemaVersion})");
            }
            if (string.IsNullOrWhiteSpace(name))
            {
                return (null, name, revision, "'name' is required (the FimPolicy's namespace/name)");
            }
            if (revision <= 0)
            {
                return (null, name, revision, "'revision' is required: a positive integer that grows with every change");
            }
            if (!root.TryGetProperty("spec", out var specElement) || specElement.ValueKind != JsonValueKind.Object)
            {
                return (null, name, revision, "'spec' is required: the policy (FimPolicy spec) as a JSON object");
            }
            var spec = PolicyLoader.LoadYaml(specElement.GetRawText(), $"fim-policies/{key}");
            spec.Name = name;
            var compiled = PolicyCompiler.Compile(spec, $"fim-policies/{key} spec");
            var selector = root.TryGetProperty("selector", out var s) && s.ValueKind == JsonValueKind.Object
                ? ReadSelector(s)
                : new LabelSelector(compiled.Selector, null);
            return (new PolicyDocument(key, name, revision, selector, compiled), name, revision, null);
        }
        catch (JsonException e)
        {
            return (null, name, revision, $"the value is not valid JSON: {e.Message}");
        }
        catch (PolicyException e)
        {
            return (null, name, revision, e.Message);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            return (null, name, revision, $"selector: {e.Message}");
        }
    }

    /// <summary>A local policy file: always selected, revision 0.</summary>
    public static PolicyDocument Local(CompiledPolicy policy) => new(LocalKey, policy.Name, 0, LabelSelector.Everything, policy);

    private static LabelSelector ReadSelector(JsonElement s)
    {
        Dictionary<string, string>? labels = null;
        if (s.TryGetProperty("matchLabels", out var ml) && ml.ValueKind == JsonValueKind.Object)
        {
            labels = [];
            foreach (var p in ml.EnumerateObject())
            {
                labels[p.Name] = p.Value.GetString() ?? throw new FormatException($"matchLabels.{p.Name} must be a string");
            }
        }
        List<LabelRequirement>? expressions = null;
        if (s.TryGetProperty("matchExpressions", out var me) && me.ValueKind == JsonValueKind.Array)
        {
            expressions = [];
            foreach (var e in me.EnumerateArray())
            {
                var key = e.GetProperty("key").GetString() ?? throw new FormatException("matchExpressions[].key must be a string");
                var op = e.GetProperty("operator").GetString() ?? throw new FormatException("matchExpressions[].operator must be a string");
                var values = e.TryGetProperty("values", out var vs) && vs.ValueKind == JsonValueKind.Array
                    ? vs.EnumerateArray().Select(x => x.GetString() ?? "").ToList()
                    : [];
                expressions.Add(new LabelRequirement(key, op, values));
            }
        }
        return new LabelSelector(labels, expressions);
    }
}

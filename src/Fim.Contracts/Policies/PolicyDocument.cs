using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// The value of KV fim-policies key "&lt;namespace&gt;.&lt;name&gt;", version 1: written by the operator from a FimPolicy,
/// read by every agent. <see cref="Spec"/> is the policy in Fim.Core's policy-file shape (camelCase JSON), which the
/// agent reads with the same strict reader as a policy file. Without <see cref="Selector"/>, the spec's own "selector"
/// map is the matchLabels. Name and revision are optional on the wire so that a reader can name a broken document.
/// </summary>
public sealed record PolicyDocument
{
    public const int CurrentSchemaVersion = 1;

    // A setter, not init: the source generator would set a missing init property to 0 rather than keep the default.
    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    /// <summary>Grows with every change (the FimPolicy's metadata.generation).</summary>
    public long Revision { get; init; }
    /// <summary>"namespace/name" of the FimPolicy.</summary>
    public string? Name { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LabelSelector? Selector { get; init; }
    public JsonElement? Spec { get; init; }
}

using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Fim.Operator.Api;

public static class FimApi
{
    public const string Group = "fim.io";
    public const string Version = "v1alpha1";
    public const string ApiVersion = Group + "/" + Version;
    public const string Category = "fim";
}

/// <summary>A status condition (the metav1.Condition shape).</summary>
public sealed record Condition
{
    [RequiredField, Description("Condition type, e.g. Accepted, Published, Available.")]
    public string Type { get; init; } = "";

    [RequiredField, EnumValues("True", "False", "Unknown")]
    public string Status { get; init; } = "Unknown";

    [Description("One CamelCase word saying why.")]
    public string? Reason { get; init; }

    public string? Message { get; init; }

    [Description("When status last changed (RFC 3339).")]
    [JsonConverter(typeof(Rfc3339SecondsConverter))]
    public DateTime? LastTransitionTime { get; init; }

    [Description("The metadata.generation this condition was computed from.")]
    public long? ObservedGeneration { get; init; }
}

/// <summary>A label selector requirement (key, operator, values).</summary>
public sealed class SelectorRequirement
{
    [RequiredField, Description("The label key.")]
    public string Key { get; set; } = "";

    [RequiredField, EnumValues("In", "NotIn", "Exists", "DoesNotExist")]
    public string Operator { get; set; } = "In";

    [Description("Values for In and NotIn; must be empty for Exists and DoesNotExist.")]
    public List<string>? Values { get; set; }
}

/// <summary>Kubernetes-style label selector over agent labels; empty selects every agent.</summary>
public sealed class AgentSelector
{
    [Description("Labels an agent must carry with exactly these values.")]
    public Dictionary<string, string>? MatchLabels { get; set; }

    [Description("Further requirements; all must hold.")]
    public List<SelectorRequirement>? MatchExpressions { get; set; }

    /// <summary>The selector agents and the operator match with.</summary>
    public Contracts.LabelSelector ToLabelSelector() => new()
    {
        MatchLabels = MatchLabels,
        MatchExpressions = MatchExpressions?.Select(r => new Contracts.LabelRequirement(r.Key, r.Operator, r.Values)).ToList(),
    };
}

/// <summary>A reference to a Secret in the same namespace.</summary>
public sealed class SecretReference
{
    [RequiredField, Description("Secret name in the pool's namespace."), Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    public string Name { get; set; } = "";
}

/// <summary>Base of both custom resources: apiVersion, kind, metadata.</summary>
public abstract class CustomResource<TSpec, TStatus> : IKubernetesObject<V1ObjectMeta>
    where TSpec : new()
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = FimApi.ApiVersion;

    [JsonPropertyName("kind")]
    public abstract string Kind { get; set; }

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public TSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public TStatus? Status { get; set; }
}

/// <summary>A list of custom resources as the API returns it.</summary>
public sealed class CustomResourceList<T> : IKubernetesObject<V1ListMeta>, IItems<T>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = FimApi.ApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "List";

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<T> Items { get; set; } = [];
}

/// <summary>metav1.Time: RFC 3339 in UTC with whole seconds, like the API server writes it.</summary>
public sealed class Rfc3339SecondsConverter : JsonConverter<DateTime?>
{
    public override DateTime? Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        reader.TokenType == System.Text.Json.JsonTokenType.Null
            ? null
            : DateTime.Parse(reader.GetString()!, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal);

    public override void Write(System.Text.Json.Utf8JsonWriter writer, DateTime? value, System.Text.Json.JsonSerializerOptions options)
    {
        if (value is { } v)
        {
            writer.WriteStringValue(v.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

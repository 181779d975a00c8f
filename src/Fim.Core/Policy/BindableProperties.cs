using System.Collections.Concurrent;
using System.Text.Json.Serialization.Metadata;

namespace Fim.Core.Policy;

/// <summary>One settable property of a policy model type, under the camelCase key that names it in YAML and JSON.</summary>
internal sealed record BindableProperty(string Key, JsonPropertyInfo Property, bool AcceptsNull)
{
    public Type Type => Property.PropertyType;
}

/// <summary>
/// The keys a policy model type accepts, in declaration order: camelCase names, or a [JsonPropertyName] where one is
/// given. The metadata comes from a source-generated JSON context (<see cref="PolicyModelJson"/>, or the caller's for
/// its own types), not from reflection, so the strict reader works in the trimmed native AOT agent; a property added
/// to a model type is picked up by the generator with nothing to register.
/// </summary>
internal sealed class BindableProperties
{
    private static readonly ConcurrentDictionary<JsonTypeInfo, BindableProperties> Cache = new();

    private readonly Dictionary<string, BindableProperty> _byKey;

    private BindableProperties(JsonTypeInfo typeInfo, IReadOnlyList<BindableProperty> properties)
    {
        TypeInfo = typeInfo;
        Keys = properties.Select(p => p.Key).ToArray();
        _byKey = properties.ToDictionary(p => p.Key, StringComparer.Ordinal);
    }

    public JsonTypeInfo TypeInfo { get; }

    public IReadOnlyList<string> Keys { get; }

    /// <summary>The properties of one of Fim.Core's own model types (policy, rule file).</summary>
    public static BindableProperties Of(Type type) => Of(PolicyModelJson.Default.GetTypeInfo(type)
        ?? throw new ArgumentException($"{type.Name} is not a policy model type (not in {nameof(PolicyModelJson)})", nameof(type)));

    public static BindableProperties Of(JsonTypeInfo typeInfo) => Cache.GetOrAdd(typeInfo, Discover);

    public bool TryGet(string key, out BindableProperty property) => _byKey.TryGetValue(key, out property!);

    public object Create() => TypeInfo.CreateObject?.Invoke()
        ?? throw new InvalidOperationException($"{TypeInfo.Type.Name} has no public parameterless constructor");

    private static BindableProperties Discover(JsonTypeInfo typeInfo) => new(typeInfo, typeInfo.Properties
        .Where(p => p.Set is not null)
        .Select(p => new BindableProperty(p.Name, p, Nullable.GetUnderlyingType(p.PropertyType) is not null || p.IsSetNullable))
        .ToList());
}

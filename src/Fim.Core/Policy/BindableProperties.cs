using System.Collections.Concurrent;
using System.Reflection;

namespace Fim.Core.Policy;

/// <summary>One settable property of a policy model type, under the camelCase key that names it in YAML and JSON.</summary>
internal sealed record BindableProperty(string Key, PropertyInfo Property, bool AcceptsNull)
{
    public Type Type => Property.PropertyType;
}

/// <summary>The keys a policy model type accepts, in declaration order: camelCase names, or a [JsonPropertyName] where one is given.</summary>
internal sealed class BindableProperties
{
    private static readonly ConcurrentDictionary<Type, BindableProperties> Cache = new();

    private readonly Dictionary<string, BindableProperty> _byKey;

    private BindableProperties(IReadOnlyList<BindableProperty> properties)
    {
        Keys = properties.Select(p => p.Key).ToArray();
        _byKey = properties.ToDictionary(p => p.Key, StringComparer.Ordinal);
    }

    public IReadOnlyList<string> Keys { get; }

    public static BindableProperties Of(Type type) => Cache.GetOrAdd(type, Discover);

    public bool TryGet(string key, out BindableProperty property) => _byKey.TryGetValue(key, out property!);

    private static BindableProperties Discover(Type type)
    {
        var nullability = new NullabilityInfoContext();
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetMethod?.IsPublic == true && p.SetMethod?.IsPublic == true && p.GetIndexParameters().Length == 0)
            .OrderBy(p => p.MetadataToken)
            .Select(p => new BindableProperty(
                p.GetCustomAttribute<System.Text.Json.Serialization.JsonPropertyNameAttribute>()?.Name ?? CamelCase(p.Name),
                p,
                Nullable.GetUnderlyingType(p.PropertyType) is not null || nullability.Create(p).WriteState == NullabilityState.Nullable))
            .ToList();
        return new BindableProperties(properties);
    }

    private static string CamelCase(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}

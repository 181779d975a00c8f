using System.Collections.Concurrent;

namespace Fim.Testing.KubeApi.Testing;

/// <summary>
/// A counted API request: the verb as the real apiserver names it (get, list, watch, create, update, patch,
/// delete, deletecollection), the API group ("" for core) and the resource, with the subresource
/// after a slash (<c>deployments/status</c>).
/// </summary>
public readonly record struct RequestKey(string Verb, string Group, string Resource);

/// <summary>Thread-safe request counts per verb and resource.</summary>
public sealed class RequestCounter
{
    private readonly ConcurrentDictionary<RequestKey, long> _counts = new();

    public void Count(RequestKey key) => _counts.AddOrUpdate(key, 1, (_, n) => n + 1);

    /// <summary>Requests for <paramref name="verb"/> on <paramref name="resource"/> (any group unless given); "*" matches anything.</summary>
    public long Get(string verb, string resource, string? group = null) =>
        _counts.Where(kv => Matches(kv.Key, verb, resource, group)).Sum(kv => kv.Value);

    public IReadOnlyDictionary<RequestKey, long> Snapshot() => new Dictionary<RequestKey, long>(_counts);

    public long Total => _counts.Values.Sum();

    public void Reset() => _counts.Clear();

    internal static bool Matches(RequestKey key, string verb, string resource, string? group) =>
        (verb == "*" || string.Equals(verb, key.Verb, StringComparison.OrdinalIgnoreCase))
        && (resource == "*" || string.Equals(resource, key.Resource, StringComparison.Ordinal))
        && (group is null || group == "*" || group == key.Group);
}

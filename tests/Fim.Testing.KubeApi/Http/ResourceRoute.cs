using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Http;

/// <summary>A parsed resource URL: <c>/apis/g/v[/namespaces/ns]/plural[/name[/subresource]]</c>.</summary>
internal sealed record ResourceRoute(ResourceType Type, string? Namespace, string? Name, string? Subresource, bool LegacyWatch)
{
    /// <summary>Parses the part after <c>/api/v1</c> or <c>/apis/g/v</c>; null when nothing is served there.</summary>
    public static ResourceRoute? Parse(ResourceCatalog catalog, string group, string version, string[] rest)
    {
        var legacyWatch = false;
        if (rest.Length > 0 && rest[0] == "watch")
        {
            legacyWatch = true;
            rest = rest[1..];
        }

        if (rest.Length == 0)
        {
            return null;
        }

        if (rest[0] == "namespaces" && rest.Length >= 3 && catalog.Find(group, version, rest[2]) is { Namespaced: true } nsType)
        {
            return rest.Length switch
            {
                3 => new ResourceRoute(nsType, rest[1], null, null, legacyWatch),
                4 => new ResourceRoute(nsType, rest[1], rest[3], null, legacyWatch),
                5 => new ResourceRoute(nsType, rest[1], rest[3], rest[4], legacyWatch),
                _ => null,
            };
        }

        var type = catalog.Find(group, version, rest[0]);
        if (type is null)
        {
            return null;
        }

        if (type.Namespaced)
        {
            // Only the all-namespaces collection is served without /namespaces/<ns>/.
            return rest.Length == 1 ? new ResourceRoute(type, null, null, null, legacyWatch) : null;
        }

        return rest.Length switch
        {
            1 => new ResourceRoute(type, null, null, null, legacyWatch),
            2 => new ResourceRoute(type, null, rest[1], null, legacyWatch),
            3 => new ResourceRoute(type, null, rest[1], rest[2], legacyWatch),
            _ => null,
        };
    }

    public string ResourceWithSubresource => Subresource is null ? Type.Plural : $"{Type.Plural}/{Subresource}";
}

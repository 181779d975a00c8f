using System.Text.Json.Nodes;

namespace Fim.Testing.KubeApi.Model;

/// <summary>
/// The served resources: a fixed set of built-ins plus whatever the stored CustomResourceDefinitions declare.
/// Immutable; the store swaps in a new catalog when a CRD changes.
/// </summary>
public sealed class ResourceCatalog
{
    private readonly Dictionary<(string Group, string Version, string Plural), ResourceType> _byPath;

    private ResourceCatalog(IReadOnlyList<ResourceType> types)
    {
        Types = types;
        _byPath = types.ToDictionary(t => (t.Group, t.Version, t.Plural));
    }

    public IReadOnlyList<ResourceType> Types { get; }

    public static ResourceCatalog BuiltinsOnly { get; } = new(Builtins.All);

    public ResourceType? Find(string group, string version, string plural) =>
        _byPath.TryGetValue((group, version, plural), out var t) ? t : null;

    /// <summary>All group/versions in discovery order (core first, then groups by name, preferred version first).</summary>
    public IEnumerable<(string Group, string Version)> GroupVersions() =>
        Types.Select(t => (t.Group, t.Version)).Distinct();

    public IEnumerable<string> Groups() => Types.Where(t => t.Group.Length > 0).Select(t => t.Group).Distinct();

    public IEnumerable<string> Versions(string group) => Types.Where(t => t.Group == group).Select(t => t.Version).Distinct();

    public IEnumerable<ResourceType> InGroupVersion(string group, string version) =>
        Types.Where(t => t.Group == group && t.Version == version);

    /// <summary>Any served type that stores objects under this group/resource (the storage bucket).</summary>
    public ResourceType? StorageType(string groupResource) =>
        Types.FirstOrDefault(t => t.GroupResource == groupResource && (t.StorageVersion is null || t.StorageVersion == t.Version))
        ?? Types.FirstOrDefault(t => t.GroupResource == groupResource);

    /// <summary>Builds the catalog from the built-ins and the given (established) CRD objects.</summary>
    public static ResourceCatalog With(IEnumerable<JsonObject> crds)
    {
        var types = new List<ResourceType>(Builtins.All);
        var taken = new HashSet<(string, string, string)>(types.Select(t => (t.Group, t.Version, t.Plural)));
        foreach (var crd in crds)
        {
            foreach (var t in CrdTypes(crd))
            {
                if (taken.Add((t.Group, t.Version, t.Plural)))
                {
                    types.Add(t);
                }
            }
        }

        return new ResourceCatalog(types);
    }

    /// <summary>The served versions of a CRD as resource types.</summary>
    public static IEnumerable<ResourceType> CrdTypes(JsonObject crd)
    {
        var spec = crd["spec"] as JsonObject;
        var names = spec?["names"] as JsonObject;
        var group = Json.Str(spec, "group");
        var plural = Json.Str(names, "plural");
        var kind = Json.Str(names, "kind");
        if (spec is null || names is null || group is null || plural is null || kind is null)
        {
            yield break;
        }

        var storage = (spec["versions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(v => v["storage"]?.GetValue<bool>() == true);
        var storageVersion = Json.Str(storage, "name");
        foreach (var v in (spec["versions"] as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            if (v["served"] is JsonValue served && served.TryGetValue<bool>(out var s) && !s)
            {
                continue;
            }

            var version = Json.Str(v, "name");
            if (version is null)
            {
                continue;
            }

            var subresources = v["subresources"] as JsonObject;
            ScaleSpec? scale = null;
            if (subresources?["scale"] is JsonObject sc)
            {
                scale = new ScaleSpec(
                    Json.Str(sc, "specReplicasPath") ?? ".spec.replicas",
                    Json.Str(sc, "statusReplicasPath") ?? ".status.replicas",
                    Json.Str(sc, "labelSelectorPath"));
            }

            var columns = new List<PrinterColumn>();
            if (v["additionalPrinterColumns"] is JsonArray cols)
            {
                foreach (var c in cols.OfType<JsonObject>())
                {
                    columns.Add(new PrinterColumn(
                        Json.Str(c, "name") ?? "",
                        Json.Str(c, "type") ?? "string",
                        Json.Str(c, "format") ?? "",
                        Json.Str(c, "description") ?? "",
                        (int)(Json.Int(c["priority"]) ?? 0),
                        Json.Str(c, "jsonPath") ?? ""));
                }
            }
            else
            {
                // apiextensions v1 defaulting: a version without columns gets an Age column.
                columns.Add(new PrinterColumn("Age", "date", "", "", 0, ".metadata.creationTimestamp"));
            }

            yield return new ResourceType
            {
                Group = group,
                Version = version,
                Kind = kind,
                ListKindOverride = Json.Str(names, "listKind"),
                Plural = plural,
                Singular = Json.Str(names, "singular") ?? kind.ToLowerInvariant(),
                Namespaced = Json.Str(spec, "scope") != "Cluster",
                ShortNames = (names["shortNames"] as JsonArray)?.Select(Json.Str).OfType<string>().ToList() ?? [],
                Categories = (names["categories"] as JsonArray)?.Select(Json.Str).OfType<string>().ToList() ?? [],
                HasStatus = subresources?["status"] is not null,
                Scale = scale,
                HasGeneration = true,
                Schema = v["schema"]?["openAPIV3Schema"] as JsonObject,
                IsCustom = true,
                PrinterColumns = columns,
                StorageVersion = storageVersion,
            };
        }
    }
}

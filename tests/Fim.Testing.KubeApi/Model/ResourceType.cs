using System.Text.Json.Nodes;

namespace Fim.Testing.KubeApi.Model;

/// <summary>An additionalPrinterColumn of a CRD version (or a built-in column).</summary>
public sealed record PrinterColumn(string Name, string Type, string Format, string Description, int Priority, string JsonPath);

/// <summary>The scale subresource's paths (CRD <c>subresources.scale</c>, or apps/v1 Deployment's built-in one).</summary>
public sealed record ScaleSpec(string SpecReplicasPath, string StatusReplicasPath, string? LabelSelectorPath);

/// <summary>
/// One resource as served at one group/version. Storage is per <see cref="GroupResource"/>, so all
/// served versions of a CRD share their objects (conversion strategy None: only apiVersion changes).
/// </summary>
public sealed record ResourceType
{
    public static readonly string[] AllVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    public required string Group { get; init; }

    public required string Version { get; init; }

    public required string Kind { get; init; }

    public required string Plural { get; init; }

    public required string Singular { get; init; }

    public required bool Namespaced { get; init; }

    public string ListKind => ListKindOverride ?? Kind + "List";

    public string? ListKindOverride { get; init; }

    public IReadOnlyList<string> ShortNames { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    public IReadOnlyList<string> Verbs { get; init; } = AllVerbs;

    public bool HasStatus { get; init; }

    public ScaleSpec? Scale { get; init; }

    /// <summary>Whether metadata.generation is maintained (set to 1, bumped on spec changes).</summary>
    public bool HasGeneration { get; init; }

    /// <summary>The CRD version's openAPIV3Schema (null for built-ins).</summary>
    public JsonObject? Schema { get; init; }

    public bool IsCustom { get; init; }

    /// <summary>DELETE answers with the deleted object instead of a Status (pods, serviceaccounts, as in the real registry).</summary>
    public bool ReturnDeletedObject { get; init; }

    public IReadOnlyList<PrinterColumn> PrinterColumns { get; init; } = [];

    /// <summary>The storage version of a CRD (objects are kept with this apiVersion).</summary>
    public string? StorageVersion { get; init; }

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary><c>deployments.apps</c>, or <c>configmaps</c> for the core group.</summary>
    public string GroupResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public string GroupVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public IEnumerable<string> Subresources
    {
        get
        {
            if (HasStatus)
            {
                yield return "status";
            }

            if (Scale is not null)
            {
                yield return "scale";
            }
        }
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Discovery;

/// <summary>
/// Discovery: legacy (<c>/api</c>, <c>/apis</c>, <c>/apis/g</c>, <c>/apis/g/v</c> APIResourceList) and aggregated
/// (<c>apidiscovery.k8s.io/v2</c> APIGroupDiscoveryList), plus the <c>/version</c> document.
/// </summary>
public static partial class DiscoveryDocuments
{
    public const string AggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

    private static readonly string[] SubresourceVerbs = ["get", "patch", "update"];

    [GeneratedRegex("^v([0-9]+)(?:(alpha|beta)([0-9]+))?$")]
    private static partial Regex KubeVersion();

    public static bool WantsAggregated(string? accept) =>
        accept is not null && accept.Split(',').Any(entry =>
        {
            var parameters = entry.Split(';').Select(p => p.Trim()).ToList();
            return parameters.Contains("as=APIGroupDiscoveryList") && parameters.Contains("v=v2") && parameters.Contains("g=apidiscovery.k8s.io");
        });

    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "33",
        ["emulationMajor"] = "1",
        ["emulationMinor"] = "33",
        ["minCompatibilityMajor"] = "1",
        ["minCompatibilityMinor"] = "32",
        ["gitVersion"] = "v1.33.0-fim-kube-api-double",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2025-01-01T00:00:00Z",
        ["goVersion"] = "go1.24.0",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    /// <summary>Kubernetes version priority: GA &gt; beta &gt; alpha, then higher numbers first, then others by name.</summary>
    public static IEnumerable<string> SortVersions(IEnumerable<string> versions) =>
        versions.OrderByDescending(VersionRank).ThenBy(v => v, StringComparer.Ordinal);

    private static (int, int, int) VersionRank(string v)
    {
        var m = KubeVersion().Match(v);
        if (!m.Success)
        {
            return (0, 0, 0);
        }

        var stability = m.Groups[2].Value switch { "" => 3, "beta" => 2, _ => 1 };
        return (stability, int.Parse(m.Groups[1].Value), m.Groups[3].Success && m.Groups[3].Value.Length > 0 ? int.Parse(m.Groups[3].Value) : 0);
    }

    public static JsonObject ApiVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public static JsonObject ApiGroupList(ResourceCatalog catalog) => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray(catalog.Groups().Select(g => (JsonNode?)Group(catalog, g)).ToArray()),
    };

    public static JsonObject? ApiGroup(ResourceCatalog catalog, string group)
    {
        if (!catalog.Groups().Contains(group))
        {
            return null;
        }

        var g = Group(catalog, group);
        g["kind"] = "APIGroup";
        g["apiVersion"] = "v1";
        return g;
    }

    private static JsonObject Group(ResourceCatalog catalog, string group)
    {
        var versions = SortVersions(catalog.Versions(group)).ToList();
        JsonObject Gv(string v) => new() { ["groupVersion"] = $"{group}/{v}", ["version"] = v };
        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = new JsonArray(versions.Select(v => (JsonNode?)Gv(v)).ToArray()),
            ["preferredVersion"] = Gv(versions[0]),
        };
    }

    public static JsonObject? ResourceList(ResourceCatalog catalog, string group, string version)
    {
        var types = catalog.InGroupVersion(group, version).ToList();
        if (types.Count == 0)
        {
            return null;
        }

        var resources = new JsonArray();
        foreach (var t in types)
        {
            var r = new JsonObject
            {
                ["name"] = t.Plural,
                ["singularName"] = t.Singular,
                ["namespaced"] = t.Namespaced,
                ["kind"] = t.Kind,
                ["verbs"] = Strings(t.Verbs),
            };
            if (t.ShortNames.Count > 0)
            {
                r["shortNames"] = Strings(t.ShortNames);
            }

            if (t.Categories.Count > 0)
            {
                r["categories"] = Strings(t.Categories);
            }

            r["storageVersionHash"] = Hash(t.GroupResource + "/" + (t.StorageVersion ?? t.Version))[..12];
            resources.Add(r);
            if (t.HasStatus)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = t.Plural + "/status",
                    ["singularName"] = "",
                    ["namespaced"] = t.Namespaced,
                    ["kind"] = t.Kind,
                    ["verbs"] = Strings(SubresourceVerbs),
                });
            }

            if (t.Scale is not null)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = t.Plural + "/scale",
                    ["singularName"] = "",
                    ["namespaced"] = t.Namespaced,
                    ["group"] = "autoscaling",
                    ["version"] = "v1",
                    ["kind"] = "Scale",
                    ["verbs"] = Strings(SubresourceVerbs),
                });
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }

    /// <summary>The aggregated discovery document for <c>/api</c> (core) or <c>/apis</c> (all named groups).</summary>
    public static JsonObject Aggregated(ResourceCatalog catalog, bool core)
    {
        var items = new JsonArray();
        var groups = core ? [""] : catalog.Groups().ToList();
        foreach (var group in groups)
        {
            var versions = new JsonArray();
            foreach (var version in SortVersions(catalog.Versions(group)))
            {
                var resources = new JsonArray();
                foreach (var t in catalog.InGroupVersion(group, version))
                {
                    var r = new JsonObject
                    {
                        ["resource"] = t.Plural,
                        ["responseKind"] = new JsonObject { ["group"] = t.Group, ["version"] = t.Version, ["kind"] = t.Kind },
                        ["scope"] = t.Namespaced ? "Namespaced" : "Cluster",
                        ["singularResource"] = t.Singular,
                        ["verbs"] = Strings(t.Verbs),
                    };
                    if (t.ShortNames.Count > 0)
                    {
                        r["shortNames"] = Strings(t.ShortNames);
                    }

                    if (t.Categories.Count > 0)
                    {
                        r["categories"] = Strings(t.Categories);
                    }

                    var subs = new JsonArray();
                    if (t.HasStatus)
                    {
                        subs.Add(new JsonObject
                        {
                            ["subresource"] = "status",
                            ["responseKind"] = new JsonObject { ["group"] = t.Group, ["version"] = t.Version, ["kind"] = t.Kind },
                            ["verbs"] = Strings(SubresourceVerbs),
                        });
                    }

                    if (t.Scale is not null)
                    {
                        subs.Add(new JsonObject
                        {
                            ["subresource"] = "scale",
                            ["responseKind"] = new JsonObject { ["group"] = "autoscaling", ["version"] = "v1", ["kind"] = "Scale" },
                            ["verbs"] = Strings(SubresourceVerbs),
                        });
                    }

                    if (subs.Count > 0)
                    {
                        r["subresources"] = subs;
                    }

                    resources.Add(r);
                }

                versions.Add(new JsonObject { ["version"] = version, ["resources"] = resources, ["freshness"] = "Current" });
            }

            var meta = new JsonObject { ["creationTimestamp"] = null };
            if (group.Length > 0)
            {
                meta["name"] = group;
            }

            items.Add(new JsonObject { ["metadata"] = meta, ["versions"] = versions });
        }

        return new JsonObject
        {
            ["kind"] = "APIGroupDiscoveryList",
            ["apiVersion"] = "apidiscovery.k8s.io/v2",
            ["metadata"] = new JsonObject(),
            ["items"] = items,
        };
    }

    internal static JsonArray Strings(IEnumerable<string> values) =>
        new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    internal static string Hash(string text) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
}

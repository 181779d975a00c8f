using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Discovery;

/// <summary>
/// A minimal OpenAPI v3 (<c>/openapi/v3</c> and <c>/openapi/v3/apis/&lt;g&gt;/&lt;v&gt;</c>): enough for kubectl to see
/// that every kind's PATCH accepts the <c>fieldValidation</c> parameter, so it validates server-side instead of
/// needing full client-side schemas. Custom resources carry their CRD schema; built-ins are plain objects.
/// PATCH request bodies deliberately omit strategic-merge-patch so kubectl computes its patches from its
/// compiled-in types (strategic merge for built-ins, JSON merge for custom resources), as with a real server.
/// </summary>
public static class OpenApiDocuments
{
    private static readonly string[] QueryParameters = ["dryRun", "fieldManager", "fieldValidation", "force", "pretty"];

    public static string PathKey(string group, string version) => group.Length == 0 ? $"api/{version}" : $"apis/{group}/{version}";

    public static JsonObject Index(ResourceCatalog catalog)
    {
        var paths = new JsonObject();
        foreach (var (group, version) in catalog.GroupVersions())
        {
            var key = PathKey(group, version);
            var doc = GroupVersion(catalog, group, version)!;
            paths[key] = new JsonObject
            {
                ["serverRelativeURL"] = $"/openapi/v3/{key}?hash={DiscoveryDocuments.Hash(doc.ToJsonString()).ToUpperInvariant()}",
            };
        }

        return new JsonObject { ["paths"] = paths };
    }

    public static JsonObject? GroupVersion(ResourceCatalog catalog, string group, string version)
    {
        var types = catalog.InGroupVersion(group, version).ToList();
        if (types.Count == 0)
        {
            return null;
        }

        var paths = new JsonObject();
        var schemas = new JsonObject();
        foreach (var t in types)
        {
            var schemaName = SchemaName(t);
            var gvk = new JsonObject { ["group"] = t.Group, ["kind"] = t.Kind, ["version"] = t.Version };
            var schema = t.Schema is { } s ? (JsonObject)s.DeepClone() : new JsonObject { ["type"] = "object" };
            schema["x-kubernetes-group-version-kind"] = new JsonArray(gvk.DeepClone());
            schemas[schemaName] = schema;
            var prefix = "/" + PathKey(t.Group, t.Version) + (t.Namespaced ? "/namespaces/{namespace}/" : "/") + t.Plural;
            paths[prefix] = new JsonObject
            {
                ["get"] = Operation("list", t, gvk, null),
                ["post"] = Operation("post", t, gvk, new JsonObject { ["application/json"] = Ref(schemaName) }),
            };
            paths[prefix + "/{name}"] = new JsonObject
            {
                ["get"] = Operation("get", t, gvk, null),
                ["put"] = Operation("put", t, gvk, new JsonObject { ["application/json"] = Ref(schemaName) }),
                ["patch"] = Operation("patch", t, gvk, new JsonObject
                {
                    ["application/apply-patch+yaml"] = Ref("io.k8s.apimachinery.pkg.apis.meta.v1.Patch"),
                    ["application/json-patch+json"] = Ref("io.k8s.apimachinery.pkg.apis.meta.v1.Patch"),
                    ["application/merge-patch+json"] = Ref("io.k8s.apimachinery.pkg.apis.meta.v1.Patch"),
                }),
                ["delete"] = Operation("delete", t, gvk, null),
            };
        }

        schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Patch"] = new JsonObject { ["type"] = "object" };
        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.33.0" },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
        };
    }

    private static string SchemaName(ResourceType t)
    {
        var reversed = string.Join('.', t.Group.Split('.').Reverse());
        return t.IsCustom ? $"{reversed}.{t.Version}.{t.Kind}" : $"io.k8s.api.{(t.Group.Length == 0 ? "core" : t.Group.Split('.')[0])}.{t.Version}.{t.Kind}";
    }

    private static JsonObject Ref(string schema) =>
        new() { ["schema"] = new JsonObject { ["$ref"] = "#/components/schemas/" + schema } };

    private static JsonObject Operation(string action, ResourceType t, JsonObject gvk, JsonObject? requestContent)
    {
        var parameters = new JsonArray();
        if (action is "patch" or "put" or "post")
        {
            foreach (var p in QueryParameters)
            {
                parameters.Add(new JsonObject
                {
                    ["name"] = p,
                    ["in"] = "query",
                    ["schema"] = new JsonObject { ["type"] = p == "force" ? "boolean" : "string", ["uniqueItems"] = true },
                });
            }
        }

        var op = new JsonObject
        {
            ["operationId"] = $"{action}{t.Kind}",
            ["parameters"] = parameters,
            ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
            ["x-kubernetes-action"] = action,
            ["x-kubernetes-group-version-kind"] = gvk.DeepClone(),
        };
        if (requestContent is not null)
        {
            op["requestBody"] = new JsonObject { ["content"] = requestContent, ["required"] = true };
        }

        return op;
    }
}

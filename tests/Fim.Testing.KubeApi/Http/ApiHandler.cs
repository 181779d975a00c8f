using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Discovery;
using Fim.Testing.KubeApi.Model;
using Fim.Testing.KubeApi.Printing;
using Fim.Testing.KubeApi.Selectors;
using Fim.Testing.KubeApi.Storage;
using Fim.Testing.KubeApi.Testing;
using Microsoft.AspNetCore.Http;

namespace Fim.Testing.KubeApi.Http;

/// <summary>The whole HTTP surface: discovery, OpenAPI, and the resource verbs including watch.</summary>
internal sealed partial class ApiHandler(ApiStore store, RequestCounter counter, FaultInjector faults, KubeApiServerOptions options)
{
    private static readonly string[] PatchTypes =
        ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml", "application/strategic-merge-patch+json"];

    private static readonly string[] CustomPatchTypes =
        ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"];

    public async Task HandleAsync(HttpContext ctx)
    {
        try
        {
            await DispatchAsync(ctx);
        }
        catch (ApiError e)
        {
            await WriteJsonAsync(ctx, e.Code, e.ToStatus());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await WriteJsonAsync(ctx, 500, new ApiError(500, "InternalError", $"Internal error occurred: {e.Message}").ToStatus());
        }
    }

    private async Task DispatchAsync(HttpContext ctx)
    {
        var segments = (ctx.Request.Path.Value ?? "/").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var method = ctx.Request.Method;
        var accept = ctx.Request.Headers.Accept.ToString();
        var catalog = store.Catalog;

        if (segments.Length >= 3 && segments[0] == "api" && segments[1] == "v1")
        {
            await ResourceAsync(ctx, catalog, "", "v1", segments[2..]);
            return;
        }

        if (segments.Length >= 4 && segments[0] == "apis")
        {
            await ResourceAsync(ctx, catalog, segments[1], segments[2], segments[3..]);
            return;
        }

        if (method != "GET")
        {
            throw ApiError.MethodNotAllowed();
        }

        JsonObject? doc = segments switch
        {
            [] => new JsonObject
            {
                ["paths"] = DiscoveryDocuments.Strings(new[] { "/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3", "/readyz", "/version" }
                    .Concat(catalog.GroupVersions().Where(gv => gv.Group.Length > 0).Select(gv => $"/apis/{gv.Group}/{gv.Version}"))),
            },
            ["version"] => DiscoveryDocuments.Version(),
            ["healthz" or "livez" or "readyz", ..] => null,
            ["api"] when DiscoveryDocuments.WantsAggregated(accept) => DiscoveryDocuments.Aggregated(catalog, core: true),
            ["api"] => DiscoveryDocuments.ApiVersions($"127.0.0.1:{ctx.Connection.LocalPort}"),
            ["apis"] when DiscoveryDocuments.WantsAggregated(accept) => DiscoveryDocuments.Aggregated(catalog, core: false),
            ["apis"] => DiscoveryDocuments.ApiGroupList(catalog),
            ["api", "v1"] => DiscoveryDocuments.ResourceList(catalog, "", "v1"),
            ["apis", var g] => DiscoveryDocuments.ApiGroup(catalog, g),
            ["apis", var g, var v] => DiscoveryDocuments.ResourceList(catalog, g, v),
            ["openapi", "v3"] => OpenApiDocuments.Index(catalog),
            ["openapi", "v3", "api", var v] => OpenApiDocuments.GroupVersion(catalog, "", v),
            ["openapi", "v3", "apis", var g, var v] => OpenApiDocuments.GroupVersion(catalog, g, v),
            _ => throw ApiError.PathNotFound(),
        };

        if (segments is ["healthz" or "livez" or "readyz", ..])
        {
            ctx.Response.ContentType = "text/plain; charset=utf-8";
            await ctx.Response.WriteAsync("ok");
            return;
        }

        if (doc is null)
        {
            throw ApiError.PathNotFound();
        }

        var contentType = segments is ["api" or "apis"] && DiscoveryDocuments.WantsAggregated(accept)
            ? DiscoveryDocuments.AggregatedContentType
            : "application/json";
        await WriteJsonAsync(ctx, 200, doc, contentType);
    }

    private async Task ResourceAsync(HttpContext ctx, ResourceCatalog catalog, string group, string version, string[] rest)
    {
        var route = ResourceRoute.Parse(catalog, group, version, rest) ?? throw ApiError.PathNotFound();
        var q = ctx.Request.Query;
        var method = ctx.Request.Method;
        var isWatch = route.LegacyWatch || IsTrue(q["watch"]);
        var verb = (method, route.Name, isWatch) switch
        {
            ("GET", null, true) => "watch",
            ("GET", _, true) => "watch",
            ("GET", null, false) => "list",
            ("GET", _, false) => "get",
            ("POST", null, _) => "create",
            ("PUT", not null, _) => "update",
            ("PATCH", not null, _) => "patch",
            ("DELETE", null, _) => "deletecollection",
            ("DELETE", _, _) => "delete",
            _ => throw ApiError.MethodNotAllowed(),
        };

        var key = new RequestKey(verb, route.Type.Group, route.ResourceWithSubresource);
        counter.Count(key);
        if (faults.Take(key) is { } fault)
        {
            throw ApiError.ForCode(fault.StatusCode, fault.Message);
        }

        if (route.Subresource is not null && !route.Type.Subresources.Contains(route.Subresource))
        {
            throw ApiError.PathNotFound();
        }

        if (route.Namespace is null && route.Type.Namespaced && verb is not ("list" or "watch" or "deletecollection"))
        {
            throw ApiError.MethodNotAllowed();
        }

        if (route.Subresource is not null && verb is not ("get" or "update" or "patch"))
        {
            throw ApiError.MethodNotAllowed();
        }

        var ns = route.Namespace ?? "";
        var t = route.Type;
        var accept = ctx.Request.Headers.Accept.ToString();
        switch (verb)
        {
            case "watch":
                await WatchAsync(ctx, route);
                return;
            case "list":
                {
                    var result = store.List(t, route.Namespace, LabelSelector.Parse(q["labelSelector"]), FieldSelector.Parse(q["fieldSelector"]),
                        int.TryParse(q["limit"], out var limit) ? limit : null, q["continue"]);
                    if (TablePrinter.WantsTable(accept))
                    {
                        await WriteJsonAsync(ctx, 200, TablePrinter.Build(t, result.Items, result.ResourceVersion, q["includeObject"], result.Continue));
                        return;
                    }

                    var meta = new JsonObject { ["resourceVersion"] = result.ResourceVersion };
                    if (result.Continue is not null)
                    {
                        meta["continue"] = result.Continue;
                        meta["remainingItemCount"] = result.RemainingItemCount;
                    }

                    await WriteJsonAsync(ctx, 200, new JsonObject
                    {
                        ["kind"] = t.ListKind,
                        ["apiVersion"] = t.ApiVersion,
                        ["metadata"] = meta,
                        ["items"] = new JsonArray(result.Items.Select(i => (JsonNode?)i).ToArray()),
                    });
                    return;
                }

            case "get":
                {
                    var obj = store.Get(t, ns, route.Name!);
                    if (route.Subresource == "scale")
                    {
                        await WriteJsonAsync(ctx, 200, ScaleOf(t, obj));
                        return;
                    }

                    if (TablePrinter.WantsTable(accept))
                    {
                        await WriteJsonAsync(ctx, 200, TablePrinter.Build(t, [obj], Json.ResourceVersion(obj) ?? "", q["includeObject"]));
                        return;
                    }

                    await WriteJsonAsync(ctx, 200, obj);
                    return;
                }

            case "create":
                {
                    var wc = WriteContextOf(ctx);
                    var body = await ReadObjectAsync(ctx);
                    var created = store.Create(t, ns, body, wc);
                    await WriteJsonAsync(ctx, 201, created, warnings: wc.Warnings);
                    return;
                }

            case "update":
                {
                    var wc = WriteContextOf(ctx);
                    var body = await ReadObjectAsync(ctx);
                    if (route.Subresource == "scale")
                    {
                        await WriteJsonAsync(ctx, 200, UpdateScale(t, ns, route.Name!, body, wc), warnings: wc.Warnings);
                        return;
                    }

                    var updated = store.Update(t, ns, route.Name!, body, route.Subresource, wc);
                    await WriteJsonAsync(ctx, 200, updated, warnings: wc.Warnings);
                    return;
                }

            case "patch":
                {
                    var wc = WriteContextOf(ctx);
                    var kind = PatchKindOf(ctx, t);
                    var text = await ReadBodyAsync(ctx);
                    if (kind == PatchKind.Apply && string.IsNullOrEmpty(wc.FieldManager))
                    {
                        throw ApiError.BadRequest("PATCH, application/apply-patch+yaml requests require fieldManager to be set");
                    }

                    if (route.Subresource == "scale")
                    {
                        var scale = ScaleOf(t, store.Get(t, ns, route.Name!));
                        var patchedScale = kind switch
                        {
                            PatchKind.Json => Patching.JsonPatch.Apply(scale, text),
                            _ => (JsonObject)Patching.MergePatch.Apply(scale, YamlJson.ParseObject(text))!,
                        };
                        await WriteJsonAsync(ctx, 200, UpdateScale(t, ns, route.Name!, patchedScale, wc), warnings: wc.Warnings);
                        return;
                    }

                    var existed = kind != PatchKind.Apply || Exists(t, ns, route.Name!);
                    var patched = store.Patch(t, ns, route.Name!, kind, text, route.Subresource, wc, IsTrue(q["force"]));
                    await WriteJsonAsync(ctx, existed ? 200 : 201, patched, warnings: wc.Warnings);
                    return;
                }

            case "delete":
                {
                    var request = await DeleteRequestOf(ctx);
                    var (body, _) = store.Delete(t, ns, route.Name!, request);
                    await WriteJsonAsync(ctx, 200, body);
                    return;
                }

            case "deletecollection":
                {
                    var request = await DeleteRequestOf(ctx);
                    var deleted = store.DeleteCollection(t, route.Namespace, LabelSelector.Parse(q["labelSelector"]),
                        FieldSelector.Parse(q["fieldSelector"]), request);
                    await WriteJsonAsync(ctx, 200, new JsonObject
                    {
                        ["kind"] = t.ListKind,
                        ["apiVersion"] = t.ApiVersion,
                        ["metadata"] = new JsonObject { ["resourceVersion"] = store.ResourceVersion.ToString(CultureInfo.InvariantCulture) },
                        ["items"] = new JsonArray(deleted.Select(i => (JsonNode?)i).ToArray()),
                    });
                    return;
                }
        }
    }

    private bool Exists(ResourceType t, string ns, string name)
    {
        try
        {
            store.Get(t, ns, name);
            return true;
        }
        catch (ApiError e) when (e.Code == 404)
        {
            return false;
        }
    }

    private WriteContext WriteContextOf(HttpContext ctx)
    {
        var q = ctx.Request.Query;
        var dryRun = q["dryRun"].Any(v => v == "All");
        var validation = q["fieldValidation"].ToString();
        return new WriteContext
        {
            DryRun = dryRun,
            FieldValidation = validation is "Strict" or "Ignore" or "Warn" ? validation : "Warn",
            FieldManager = q["fieldManager"].ToString() is { Length: > 0 } fm ? fm : null,
            UserAgent = ctx.Request.Headers.UserAgent.ToString(),
            Validator = SchemaValidator(options),
        };
    }

    private static PatchKind PatchKindOf(HttpContext ctx, ResourceType t)
    {
        var contentType = (ctx.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        return contentType switch
        {
            "application/json-patch+json" => PatchKind.Json,
            "application/merge-patch+json" => PatchKind.Merge,
            "application/strategic-merge-patch+json" when !t.IsCustom => PatchKind.StrategicMerge,
            "application/apply-patch+yaml" => PatchKind.Apply,
            _ => throw ApiError.UnsupportedMediaType(t.IsCustom ? CustomPatchTypes : PatchTypes),
        };
    }

    private static async Task<DeleteRequest> DeleteRequestOf(HttpContext ctx)
    {
        var q = ctx.Request.Query;
        string? policy = q["propagationPolicy"].ToString() is { Length: > 0 } p ? p : null;
        if (policy is null && q["orphanDependents"].Count > 0)
        {
            policy = IsTrue(q["orphanDependents"]) ? "Orphan" : "Background";
        }

        string? uid = null;
        string? rv = null;
        var dryRun = q["dryRun"].Any(v => v == "All");
        var protobuf = ctx.Request.ContentLength != 0 && (ctx.Request.ContentType ?? "").Split(';')[0].Trim().Equals(KubeProtobuf.MediaType, StringComparison.OrdinalIgnoreCase);
        var text = protobuf ? null : await ReadBodyAsync(ctx);
        if (protobuf || !string.IsNullOrWhiteSpace(text))
        {
            var body = protobuf ? await ReadObjectAsync(ctx) : YamlJson.ParseObject(text!);
            policy = Json.Str(body, "propagationPolicy") ?? policy;
            if (policy is null && body["orphanDependents"] is JsonValue od && od.TryGetValue<bool>(out var orphan))
            {
                policy = orphan ? "Orphan" : "Background";
            }

            uid = Json.Str(body["preconditions"], "uid");
            rv = Json.Str(body["preconditions"], "resourceVersion");
            dryRun |= body["dryRun"] is JsonArray dr && dr.Any(d => Json.Str(d) == "All");
        }

        if (policy is not (null or "Background" or "Foreground" or "Orphan"))
        {
            throw new ApiError(422, "Invalid",
                $"DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: {FieldError.Quote(policy)}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"");
        }

        return new DeleteRequest(policy, uid, rv, dryRun);
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext ctx)
    {
        var contentType = (ctx.Request.ContentType ?? "application/json").Split(';')[0].Trim().ToLowerInvariant();
        if (contentType == KubeProtobuf.MediaType)
        {
            using var buffer = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted);
            return KubeProtobuf.Decode(buffer.ToArray());
        }

        var text = await ReadBodyAsync(ctx);
        return contentType switch
        {
            "application/json" or "" or "*/*" => Json.ParseObject(text),
            "application/yaml" or "application/x-yaml" or "text/yaml" => YamlJson.ParseObject(text),
            _ => throw ApiError.UnsupportedMediaType(["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]),
        };
    }

    private static async Task<string> ReadBodyAsync(HttpContext ctx)
    {
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(ctx.RequestAborted);
    }

    private static bool IsTrue(Microsoft.Extensions.Primitives.StringValues v) =>
        v.Count > 0 && v[0] is "true" or "1" or "True";

    private static async Task WriteJsonAsync(HttpContext ctx, int code, JsonObject body, string contentType = "application/json", IReadOnlyList<string>? warnings = null)
    {
        if (ctx.Response.HasStarted)
        {
            return;
        }

        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = contentType;
        if (warnings is { Count: > 0 })
        {
            ctx.Response.Headers.Append("Warning",
                warnings.Select(w => $"299 - \"{w.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"").ToArray());
        }

        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString(Json.Compact));
        ctx.Response.ContentLength = bytes.Length;
        await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fim.Testing.KubeApi.Model;
using Fim.Testing.KubeApi.Schema;

namespace Fim.Testing.KubeApi.Storage;

/// <summary>
/// Per-type create/update behaviour (the real server's "strategies" and a little admission):
/// name validation, custom resource pruning/defaulting/validation, and a few built-in defaults
/// (Namespace phase and finalizer, Secret stringData, Service type/clusterIP/ports, Deployment replicas/selector check).
/// </summary>
internal static partial class Strategies
{
    public const string CrdCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

    private const string Dns1123SubdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    private const string Dns1123LabelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

    private const string Dns1035LabelMessage =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

    private static int _nextClusterIp = 10;

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1035Label();

    /// <summary>Defaults and normalisation before a create is validated.</summary>
    public static void PrepareForCreate(ResourceType type, JsonObject obj, WriteContext ctx)
    {
        if (type.HasStatus)
        {
            if (type.IsCustom)
            {
                obj.Remove("status");
            }
            else
            {
                obj["status"] = new JsonObject();
            }
        }

        PrepareCommon(type, obj, ctx);
        switch (type.GroupResource)
        {
            case "namespaces":
                obj["spec"] = MergeFinalizer(obj["spec"] as JsonObject, "kubernetes");
                obj["status"] = new JsonObject { ["phase"] = "Active" };
                break;
            case "customresourcedefinitions.apiextensions.k8s.io":
                Json.SetFinalizers(obj, Json.Finalizers(obj).Append(CrdCleanupFinalizer).Distinct());
                SetCrdStatus(obj);
                break;
            case "services":
                DefaultService(obj, null);
                break;
        }
    }

    /// <summary>Defaults and normalisation before an update is validated (<paramref name="old"/> is the stored object).</summary>
    public static void PrepareForUpdate(ResourceType type, JsonObject obj, JsonObject old, WriteContext ctx)
    {
        PrepareCommon(type, obj, ctx);
        switch (type.GroupResource)
        {
            case "namespaces":
                if (obj["spec"] is null)
                {
                    obj["spec"] = old["spec"]?.DeepClone();
                }

                break;
            case "customresourcedefinitions.apiextensions.k8s.io":
                SetCrdStatus(obj);
                break;
            case "services":
                DefaultService(obj, old);
                break;
        }
    }

    private static void PrepareCommon(ResourceType type, JsonObject obj, WriteContext ctx)
    {
        if (type.IsCustom)
        {
            var unknown = StructuralSchema.Prune(obj, type.Schema);
            if (unknown.Count > 0)
            {
                switch (ctx.FieldValidation)
                {
                    case "Strict":
                        throw ApiError.BadRequest(
                            $"{type.Kind} in version \"{type.Version}\" cannot be handled as a {type.Kind}: strict decoding error: "
                            + string.Join(", ", unknown.Select(u => $"unknown field \"{u}\"")));
                    case "Ignore":
                        break;
                    default:
                        ctx.Warnings.AddRange(unknown.Select(u => $"unknown field \"{u}\""));
                        break;
                }
            }

            StructuralSchema.ApplyDefaults(obj, type.Schema);
            return;
        }

        switch (type.GroupResource)
        {
            case "secrets":
                if (obj["stringData"] is JsonObject stringData)
                {
                    var data = obj["data"] as JsonObject ?? new JsonObject();
                    foreach (var (k, v) in stringData)
                    {
                        data[k] = Convert.ToBase64String(Encoding.UTF8.GetBytes(Json.Str(v) ?? ""));
                    }

                    obj["data"] = data;
                    obj.Remove("stringData");
                }

                obj["type"] ??= "Opaque";
                break;
            case "deployments.apps":
                if (obj["spec"] is JsonObject spec)
                {
                    spec["replicas"] ??= 1;
                    spec["revisionHistoryLimit"] ??= 10;
                    spec["progressDeadlineSeconds"] ??= 600;
                    spec["strategy"] ??= new JsonObject
                    {
                        ["type"] = "RollingUpdate",
                        ["rollingUpdate"] = new JsonObject { ["maxUnavailable"] = "25%", ["maxSurge"] = "25%" },
                    };
                }

                break;
        }
    }

    /// <summary>Validation run on every create and update; a non-empty list becomes a 422.</summary>
    public static List<FieldError> Validate(ResourceType type, JsonObject obj, JsonObject? old)
    {
        var errors = new List<FieldError>();
        var name = Json.Name(obj);
        ValidateName(type, name, errors);
        if (old is not null && Json.IsTerminating(old))
        {
            var added = Json.Finalizers(obj).Except(Json.Finalizers(old)).ToList();
            if (added.Count > 0)
            {
                errors.Add(FieldError.Forbidden("metadata.finalizers",
                    $"no new finalizers can be added if the object is being deleted, found new finalizers []string{{{string.Join(", ", added.Select(FieldError.Quote))}}}"));
            }
        }

        if (type.IsCustom)
        {
            errors.AddRange(StructuralSchema.Validate(obj, type.Schema));
        }

        switch (type.GroupResource)
        {
            case "deployments.apps":
                ValidateDeployment(obj, errors);
                break;
            case "customresourcedefinitions.apiextensions.k8s.io":
                ValidateCrd(obj, errors);
                break;
        }

        return errors;
    }

    private static void ValidateName(ResourceType type, string name, List<FieldError> errors)
    {
        if (name.Length == 0)
        {
            errors.Add(FieldError.Required("metadata.name", "name or generateName is required"));
            return;
        }

        switch (type.GroupResource)
        {
            case "namespaces":
                if (name.Length > 63 || !Dns1123Label().IsMatch(name))
                {
                    errors.Add(FieldError.InvalidText("metadata.name", FieldError.Quote(name), Dns1123LabelMessage));
                }

                break;
            case "services":
                if (name.Length > 63 || !Dns1035Label().IsMatch(name))
                {
                    errors.Add(FieldError.InvalidText("metadata.name", FieldError.Quote(name), Dns1035LabelMessage));
                }

                break;
            case var gr when gr.EndsWith(".rbac.authorization.k8s.io", StringComparison.Ordinal):
                if (name is "." or ".." || name.Contains('/') || name.Contains('%'))
                {
                    errors.Add(FieldError.InvalidText("metadata.name", FieldError.Quote(name), "may not contain '/' or '%'"));
                }

                break;
            default:
                if (name.Length > 253 || !Dns1123Subdomain().IsMatch(name))
                {
                    errors.Add(FieldError.InvalidText("metadata.name", FieldError.Quote(name), Dns1123SubdomainMessage));
                }

                break;
        }
    }

    private static void ValidateDeployment(JsonObject obj, List<FieldError> errors)
    {
        var spec = obj["spec"] as JsonObject;
        var selector = spec?["selector"] as JsonObject;
        if (selector is null)
        {
            errors.Add(FieldError.Required("spec.selector"));
            return;
        }

        var matchLabels = Json.StringMap(selector["matchLabels"]);
        if (matchLabels.Count == 0 && selector["matchExpressions"] is not JsonArray { Count: > 0 })
        {
            errors.Add(FieldError.InvalidText("spec.selector", "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}", "empty selector is invalid for deployment"));
        }

        var templateLabels = Json.StringMap(spec?["template"]?["metadata"]?["labels"]);
        if (matchLabels.Any(kv => !templateLabels.TryGetValue(kv.Key, out var v) || v != kv.Value))
        {
            var rendered = "map[string]string{" + string.Join(", ", templateLabels.OrderBy(k => k.Key, StringComparer.Ordinal)
                .Select(kv => $"{FieldError.Quote(kv.Key)}:{FieldError.Quote(kv.Value)}")) + "}";
            errors.Add(FieldError.InvalidText("spec.template.metadata.labels", rendered, "`selector` does not match template `labels`"));
        }
    }

    private static void ValidateCrd(JsonObject crd, List<FieldError> errors)
    {
        var spec = crd["spec"] as JsonObject;
        var group = Json.Str(spec, "group");
        var plural = Json.Str(spec?["names"], "plural");
        if (string.IsNullOrEmpty(group))
        {
            errors.Add(FieldError.Required("spec.group"));
        }

        if (string.IsNullOrEmpty(plural))
        {
            errors.Add(FieldError.Required("spec.names.plural"));
        }

        if (string.IsNullOrEmpty(Json.Str(spec?["names"], "kind")))
        {
            errors.Add(FieldError.Required("spec.names.kind"));
        }

        var scope = Json.Str(spec, "scope");
        if (scope is not ("Namespaced" or "Cluster"))
        {
            errors.Add(FieldError.NotSupported("spec.scope", spec?["scope"], ["Cluster", "Namespaced"]));
        }

        if (!string.IsNullOrEmpty(group) && !string.IsNullOrEmpty(plural) && Json.Name(crd) != $"{plural}.{group}")
        {
            errors.Add(FieldError.InvalidText("metadata.name", FieldError.Quote(Json.Name(crd)), "must be spec.names.plural+\".\"+spec.group"));
        }

        var versions = (spec?["versions"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        if (versions.Count == 0)
        {
            errors.Add(FieldError.Invalid("spec.versions", new JsonArray(), "must have exactly one version marked as storage version"));
        }
        else if (versions.Count(v => v["storage"] is JsonValue s && s.TryGetValue<bool>(out var b) && b) != 1)
        {
            errors.Add(FieldError.Invalid("spec.versions", spec!["versions"], "must have exactly one version marked as storage version"));
        }

        for (var i = 0; i < versions.Count; i++)
        {
            if (versions[i]["schema"]?["openAPIV3Schema"] is not JsonObject)
            {
                errors.Add(FieldError.Required($"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required"));
            }
        }
    }

    /// <summary>What the CRD controllers would report: Established and NamesAccepted, accepted names, stored versions.</summary>
    private static void SetCrdStatus(JsonObject crd)
    {
        var spec = crd["spec"] as JsonObject;
        var now = Json.Now();
        var storage = (spec?["versions"] as JsonArray)?.OfType<JsonObject>()
            .FirstOrDefault(v => v["storage"] is JsonValue s && s.TryGetValue<bool>(out var b) && b);
        var stored = new HashSet<string>(((crd["status"] as JsonObject)?["storedVersions"] as JsonArray)?.Select(Json.Str).OfType<string>() ?? []);
        if (Json.Str(storage, "name") is { } sv)
        {
            stored.Add(sv);
        }

        var existing = crd["status"]?["conditions"] as JsonArray;
        string Since(string type) =>
            existing?.OfType<JsonObject>().FirstOrDefault(c => Json.Str(c, "type") == type) is { } c && Json.Str(c, "lastTransitionTime") is { } t ? t : now;

        crd["status"] = new JsonObject
        {
            ["conditions"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "NamesAccepted",
                    ["status"] = "True",
                    ["lastTransitionTime"] = Since("NamesAccepted"),
                    ["reason"] = "NoConflicts",
                    ["message"] = "no conflicts found",
                },
                new JsonObject
                {
                    ["type"] = "Established",
                    ["status"] = "True",
                    ["lastTransitionTime"] = Since("Established"),
                    ["reason"] = "InitialNamesAccepted",
                    ["message"] = "the initial names have been accepted",
                }),
            ["acceptedNames"] = spec?["names"]?.DeepClone(),
            ["storedVersions"] = new JsonArray(stored.Order(StringComparer.Ordinal).Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
        };
    }

    private static void DefaultService(JsonObject svc, JsonObject? old)
    {
        if (svc["spec"] is not JsonObject spec)
        {
            return;
        }

        spec["type"] ??= "ClusterIP";
        spec["sessionAffinity"] ??= "None";
        if (spec["clusterIP"] is null && Json.Str(spec, "type") != "ExternalName")
        {
            var oldIp = Json.Str(old?["spec"], "clusterIP");
            var ip = oldIp ?? $"10.96.{(Interlocked.Increment(ref _nextClusterIp) / 250) % 250}.{(_nextClusterIp % 250) + 1}";
            spec["clusterIP"] = ip;
            spec["clusterIPs"] = new JsonArray(ip);
        }

        if (spec["ports"] is JsonArray ports)
        {
            foreach (var p in ports.OfType<JsonObject>())
            {
                p["protocol"] ??= "TCP";
                if (p["targetPort"] is null && p["port"] is { } port)
                {
                    p["targetPort"] = port.DeepClone();
                }
            }
        }
    }

    private static JsonObject MergeFinalizer(JsonObject? spec, string finalizer)
    {
        spec = spec is null ? new JsonObject() : (JsonObject)spec.DeepClone();
        var list = (spec["finalizers"] as JsonArray)?.Select(Json.Str).OfType<string>().ToList() ?? [];
        if (!list.Contains(finalizer))
        {
            list.Add(finalizer);
        }

        spec["finalizers"] = new JsonArray(list.Select(f => (JsonNode?)JsonValue.Create(f)).ToArray());
        return spec;
    }

    /// <summary>The 5-character suffix the real server appends to generateName.</summary>
    public static string RandomSuffix()
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var chars = new char[5];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[Random.Shared.Next(alphabet.Length)];
        }

        return new string(chars);
    }

    public static string Rv(long rv) => rv.ToString(CultureInfo.InvariantCulture);
}

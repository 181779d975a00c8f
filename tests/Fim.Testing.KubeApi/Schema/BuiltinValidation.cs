using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fim.Testing.KubeApi.Model;
using Fim.Testing.KubeApi.Storage;

namespace Fim.Testing.KubeApi.Schema;

/// <summary>
/// Validation of built-in objects (and of KEDA's and prometheus-operator's custom resources): the OpenAPI schema through
/// <see cref="ModelValidator"/> (types, required fields, enums, formats, undeclared fields) and, for built-ins, a few of the apiserver's hand-written rules the schema does not carry
/// (port ranges, replica counts, HPA bounds, container names, PriorityClass values).
/// </summary>
internal static partial class BuiltinValidation
{
    // Custom resources of these groups are checked against their npm models too (beside their CRD's schema).
    private static readonly HashSet<string> ThirdPartyModelGroups = ["keda.sh", "eventing.keda.sh", "monitoring.coreos.com"];

    private static readonly HashSet<string> PortFields = ["containerPort", "hostPort", "port", "targetPort", "nodePort", "endPort"];

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    /// <summary>
    /// Runs before the object is stored: unknown fields follow <c>fieldValidation</c> (Strict 400, Warn prune and warn,
    /// Ignore prune), schema and rule violations are a 422 naming each field.
    /// </summary>
    public static void CheckBuiltin(ResourceType type, JsonObject obj, WriteContext ctx)
    {
        if (type.IsCustom && !ThirdPartyModelGroups.Contains(type.Group))
        {
            return;
        }

        var errors = new List<FieldError>();
        if (ctx.Validator?.Check(obj) is { } check)
        {
            if (check.UnknownFields.Count > 0)
            {
                switch (ctx.FieldValidation)
                {
                    case "Strict":
                        throw ApiError.BadRequest(
                            $"{type.Kind} in version \"{type.Version}\" cannot be handled as a {type.Kind}: strict decoding error: "
                            + string.Join(", ", check.UnknownFields.Select(u => $"unknown field \"{u}\"")));
                    case "Warn":
                        ctx.Warnings.AddRange(check.UnknownFields.Select(u => $"unknown field \"{u}\""));
                        break;
                }

                // Decoding into the Go types drops what they do not declare.
                foreach (var field in check.UnknownFields)
                {
                    Remove(obj, field);
                }
            }

            // Status belongs to controllers the double does not run; tests write partial ones.
            errors.AddRange(check.Errors.Where(e => e.Field != "status" && !e.Field.StartsWith("status.", StringComparison.Ordinal)).Select(ToFieldError));
        }

        if (!type.IsCustom)
        {
            errors.AddRange(Rules(type, obj));
        }
        if (errors.Count > 0)
        {
            throw ApiError.Invalid(type, Json.Name(obj), errors);
        }
    }

    private static FieldError ToFieldError(ModelError e) => e.Keyword switch
    {
        "required" => FieldError.Required(e.Field),
        "type" => FieldError.TypeInvalid(e.Field, "value", e.Message),
        _ => FieldError.InvalidText(e.Field, "", e.Message),
    };

    /// <summary>The hand-written rules (k8s.io/kubernetes pkg/apis/*/validation) the schema cannot express.</summary>
    public static IEnumerable<FieldError> Rules(ResourceType type, JsonObject obj)
    {
        var errors = new List<FieldError>();
        Walk(obj, "", errors);
        var spec = obj["spec"] as JsonObject;
        switch (type.GroupResource)
        {
            case "deployments.apps" or "statefulsets.apps" or "replicasets.apps":
                if (Int(spec?["replicas"]) is < 0 and var r)
                {
                    errors.Add(FieldError.Invalid("spec.replicas", r, "must be greater than or equal to 0"));
                }

                break;
            case "horizontalpodautoscalers.autoscaling":
                var min = Int(spec?["minReplicas"]);
                var max = Int(spec?["maxReplicas"]);
                if (min is < 1)
                {
                    errors.Add(FieldError.Invalid("spec.minReplicas", min, "must be greater than or equal to 1"));
                }

                if (max is < 1)
                {
                    errors.Add(FieldError.Invalid("spec.maxReplicas", max, "must be greater than 0"));
                }
                else if (max is not null && min is not null && max < min)
                {
                    errors.Add(FieldError.Invalid("spec.maxReplicas", max, "must be greater than or equal to `minReplicas`"));
                }

                break;
            case "priorityclasses.scheduling.k8s.io":
                if (Int(obj["value"]) is > 1_000_000_000 and var v && !Json.Name(obj).StartsWith("system-", StringComparison.Ordinal))
                {
                    errors.Add(FieldError.Forbidden("value", $"maximum allowed value of a user defined priority is 1000000000, got {v}"));
                }

                break;
        }

        return errors;
    }

    private static void Walk(JsonNode? node, string path, List<FieldError> errors)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, child) in o)
                {
                    var childPath = path.Length == 0 ? key : path + "." + key;
                    if (PortFields.Contains(key) && Int(child) is { } port && !(port == 0 && key is "hostPort" or "nodePort") && port is < 1 or > 65535)
                    {
                        errors.Add(FieldError.Invalid(childPath, port, "must be between 1 and 65535, inclusive"));
                    }

                    if (key is "containers" or "initContainers" && child is JsonArray containers)
                    {
                        CheckContainerNames(containers, childPath, errors);
                    }

                    if (key is not ("metadata" or "annotations" or "labels" or "data"))
                    {
                        Walk(child, childPath, errors);
                    }
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    Walk(a[i], $"{path}[{i}]", errors);
                }

                break;
        }
    }

    private static void CheckContainerNames(JsonArray containers, string path, List<FieldError> errors)
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < containers.Count; i++)
        {
            if (containers[i]?["name"] is JsonValue v && v.TryGetValue<string>(out var name))
            {
                if (name.Length > 63 || !Dns1123Label().IsMatch(name))
                {
                    errors.Add(FieldError.InvalidText($"{path}[{i}].name", FieldError.Quote(name),
                        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"));
                }
                else if (!seen.Add(name))
                {
                    errors.Add(new FieldError("FieldValueDuplicate", $"{path}[{i}].name", "Duplicate value: " + FieldError.Quote(name)));
                }
            }
        }
    }

    private static long? Int(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var l) ? l : null;

    /// <summary>Removes <c>a.b[2].c</c> from the object (nothing when the path does not resolve).</summary>
    private static void Remove(JsonObject root, string path)
    {
        var segments = Regex.Split(path, @"\.|(?=\[)").Where(s => s.Length > 0).ToList();
        JsonNode? node = root;
        for (var i = 0; i < segments.Count - 1 && node is not null; i++)
        {
            node = Step(node, segments[i]);
        }

        if (node is JsonObject parent)
        {
            parent.Remove(segments[^1]);
        }
    }

    private static JsonNode? Step(JsonNode node, string segment) =>
        segment.StartsWith('[') && node is JsonArray a && int.TryParse(segment.AsSpan(1, segment.Length - 2), out var i) && i < a.Count ? a[i]
        : node is JsonObject o ? o[segment] : null;
}

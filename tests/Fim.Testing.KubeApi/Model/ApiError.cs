using System.Text.Json.Nodes;

namespace Fim.Testing.KubeApi.Model;

/// <summary>One entry of <c>Status.details.causes</c> (a field-level validation error).</summary>
public sealed record StatusCause(string Reason, string Message, string Field);

/// <summary>
/// An error the API answers with a <c>meta/v1 Status</c> body, shaped like the real kube-apiserver's
/// (<c>k8s.io/apimachinery/pkg/api/errors</c>).
/// </summary>
public sealed class ApiError : Exception
{
    public ApiError(int code, string reason, string message, JsonObject? details = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Details = details;
    }

    public int Code { get; }

    public string Reason { get; }

    public JsonObject? Details { get; }

    public JsonObject ToStatus() => Status(Code, Reason, Message, Details);

    public static JsonObject Status(int code, string reason, string message, JsonObject? details = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
        };
        if (details is not null)
        {
            status["details"] = details.DeepClone();
        }

        status["code"] = code;
        return status;
    }

    public static JsonObject Success(string name, string group, string plural, string? uid)
    {
        var details = new JsonObject { ["name"] = name, ["group"] = group, ["kind"] = plural };
        if (uid is not null)
        {
            details["uid"] = uid;
        }

        return new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        };
    }

    private static JsonObject QualifiedDetails(string name, string group, string kind)
    {
        var d = new JsonObject();
        if (name.Length > 0)
        {
            d["name"] = name;
        }

        if (group.Length > 0)
        {
            d["group"] = group;
        }

        d["kind"] = kind;
        return d;
    }

    /// <summary><c>deployments.apps "x" not found</c>.</summary>
    public static ApiError NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{type.GroupResource} \"{name}\" not found", QualifiedDetails(name, type.Group, type.Plural));

    public static ApiError NotFound(string groupResource, string group, string plural, string name) =>
        new(404, "NotFound", $"{groupResource} \"{name}\" not found", QualifiedDetails(name, group, plural));

    public static ApiError PathNotFound() =>
        new(404, "NotFound", "the server could not find the requested resource", new JsonObject());

    public static ApiError AlreadyExists(ResourceType type, string name) =>
        new(409, "AlreadyExists", $"{type.GroupResource} \"{name}\" already exists", QualifiedDetails(name, type.Group, type.Plural));

    public static ApiError Conflict(ResourceType type, string name, string detail) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {type.GroupResource} \"{name}\": {detail}", QualifiedDetails(name, type.Group, type.Plural));

    public static ApiError StaleResourceVersion(ResourceType type, string name) =>
        Conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again");

    public static ApiError BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiError MethodNotAllowed() =>
        new(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", new JsonObject());

    public static ApiError UnsupportedMediaType(IEnumerable<string> accepted) =>
        new(415, "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: " + string.Join(", ", accepted));

    public static ApiError NotAcceptable() =>
        new(406, "NotAcceptable", "only the following media types are accepted: application/json, application/yaml");

    public static ApiError Forbidden(ResourceType type, string name, string detail) =>
        new(403, "Forbidden", $"{type.GroupResource} \"{name}\" is forbidden: {detail}", QualifiedDetails(name, type.Group, type.Plural));

    public static ApiError Expired(string message) => new(410, "Expired", message);

    /// <summary>A 422 like <c>FimPolicy.fim.io "x" is invalid: [a: ..., b: ...]</c>.</summary>
    public static ApiError Invalid(ResourceType type, string name, IReadOnlyList<FieldError> errors)
    {
        var qualifiedKind = type.Group.Length == 0 ? type.Kind : $"{type.Kind}.{type.Group}";
        var unique = errors.DistinctBy(e => e.ToString()).ToList();
        var aggregate = unique.Count == 1 ? unique[0].ToString() : "[" + string.Join(", ", unique.Select(e => e.ToString())) + "]";
        var details = QualifiedDetails(name, type.Group, type.Kind);
        var causes = new JsonArray();
        foreach (var e in unique)
        {
            causes.Add(new JsonObject { ["reason"] = e.Reason, ["message"] = e.Body, ["field"] = e.Field });
        }

        details["causes"] = causes;
        return new ApiError(422, "Invalid", $"{qualifiedKind} \"{name}\" is invalid: {aggregate}", details);
    }

    /// <summary>The Status for an arbitrary HTTP code (used by fault injection).</summary>
    public static ApiError ForCode(int code, string? message)
    {
        var reason = code switch
        {
            400 => "BadRequest",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            405 => "MethodNotAllowed",
            409 => "Conflict",
            410 => "Expired",
            415 => "UnsupportedMediaType",
            422 => "Invalid",
            429 => "TooManyRequests",
            500 => "InternalError",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "Unknown",
        };
        return new ApiError(code, reason, message ?? $"injected failure (HTTP {code})");
    }
}

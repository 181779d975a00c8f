namespace Fim.Testing.KubeApi.Storage;

/// <summary>Per-request write options and the warnings to return in <c>Warning:</c> headers.</summary>
public sealed class WriteContext
{
    public bool DryRun { get; init; }

    /// <summary>Strict, Warn (the server default) or Ignore: what to do with unknown fields of custom resources.</summary>
    public string FieldValidation { get; init; } = "Warn";

    public string? FieldManager { get; init; }

    public string? UserAgent { get; init; }

    /// <summary>The fieldManager, or like the real server the user agent up to its first '/'.</summary>
    public string Manager => FieldManager ?? (UserAgent?.Split('/')[0] is { Length: > 0 } product ? product : "unknown");

    /// <summary>Validates built-in objects against their OpenAPI schema; null: no schema validation.</summary>
    public Schema.ModelValidator? Validator { get; init; }

    public List<string> Warnings { get; } = [];
}

/// <summary>DeleteOptions (body or query).</summary>
public sealed record DeleteRequest(
    string? PropagationPolicy,
    string? PreconditionUid,
    string? PreconditionResourceVersion,
    bool DryRun);

namespace Fim.Manager.Security;

/// <summary>
/// The audit trail until the store has its audit table: one structured log line (category Fim.Audit, always at
/// Information) per mutating call and per refused login, with who, what, when and from where. Never a secret: a
/// refused token is named by its id or issuer, not its text.
/// </summary>
public sealed class AuditLog(ILoggerFactory loggers, TimeProvider time)
{
    public const string Category = "Fim.Audit";

    private readonly ILogger _log = loggers.CreateLogger(Category);

    /// <summary>A mutating call and how it ended (ok, or the status it failed with).</summary>
    public void Call(CallerAccess caller, HttpContext context, string action, string target, string outcome) =>
        _log.LogInformation("audit {AuditAction} on {AuditTarget} by {AuditWho} ({AuditScheme}) from {AuditFrom} at {AuditWhen:O}: {AuditOutcome}",
            action, target, caller.Subject, caller.Scheme, From(context), time.GetUtcNow(), outcome);

    /// <summary>A call refused before it ran: no or bad credentials (401), a role too low (403), over a rate limit (429).</summary>
    public void Refused(HttpContext context, string who, string action, int status) =>
        _log.LogInformation("audit {AuditAction} on {AuditTarget} by {AuditWho} from {AuditFrom} at {AuditWhen:O}: refused {AuditStatus}",
            action, context.Request.Path.Value, who, From(context), time.GetUtcNow(), status);

    /// <summary>A console action refused to a signed-in user whose role does not allow it (the console's own 403).</summary>
    public void RefusedInConsole(CallerAccess caller, string action, string target) =>
        _log.LogInformation("audit {AuditAction} on {AuditTarget} by {AuditWho} ({AuditScheme}) from the console at {AuditWhen:O}: refused {AuditStatus}",
            action, target, caller.Subject, caller.Scheme, time.GetUtcNow(), StatusCodes.Status403Forbidden);

    /// <summary>Credentials that were presented and refused (bad signature, expired, unknown or revoked token, failed browser login).</summary>
    public void LoginFailed(HttpContext context, string scheme, string reason) =>
        _log.LogInformation("audit login-failed scheme {AuditScheme} from {AuditFrom} at {AuditWhen:O} on {AuditTarget}: {AuditReason}",
            scheme, From(context), time.GetUtcNow(), context.Request.Path.Value, reason);

    private static string From(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}

/// <summary>Marks an endpoint that changes something: a refusal of it is audited even before the call runs.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AuditedAttribute(string action) : Attribute
{
    public string Action { get; } = action;
}

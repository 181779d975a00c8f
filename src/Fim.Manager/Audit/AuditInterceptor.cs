using Fim.Manager.Security;
using Fim.Manager.Store;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Fim.Manager.Audit;

/// <summary>
/// Writes every mutating API call to the audit log, for every service, gRPC and REST alike (JSON transcoding runs the
/// same gRPC handlers and interceptors). Two rows per call: "started" before the method runs (if it cannot be written
/// the call fails with UNAVAILABLE and changes nothing, so no mutation goes unaudited) and its outcome after: ok, or the
/// gRPC status code it ended with. Calls refused before they reach the method (no credentials, a role too low) are
/// in the Fim.Audit log, not here.
/// </summary>
public sealed class AuditInterceptor(AuditedMethods methods, AuditTrail trail, GrantMapper grants, TimeProvider time)
    : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (methods.Mutating(context.Method) is not { } method || request is not IMessage message)
        {
            return await continuation(request, context);
        }
        var http = context.GetHttpContext();
        var caller = grants.For(http);
        var started = new AuditDraft(Micros.From(time.GetUtcNow()), caller.Subject, AuthMethod(caller, http), AuditedMethods.Action(method),
            AuditedMethods.Target(message), AuditDetail.Of(message), "started");
        return await trail.RunAsync(started, () => continuation(request, context), context.CancellationToken);
    }

    /// <summary>api-token, oidc-bearer (a JWT in the Authorization header) or oidc-session (the console's login cookie).</summary>
    public static string AuthMethod(CallerAccess caller, HttpContext http) =>
        caller.Scheme == ApiTokenHandler.AuthenticationType ? "api-token"
        : ApiTokenHandler.BearerToken(http.Request) is not null ? "oidc-bearer"
        : "oidc-session";
}

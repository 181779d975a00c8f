using System.Text.Json;
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
public sealed class AuditInterceptor(AuditedMethods methods, AuditTrail trail, GrantMapper grants, TimeProvider time, ILogger<AuditInterceptor> log)
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
        var started = new AuditDraft(Store.Micros.From(time.GetUtcNow()), caller.Subject, AuthMethod(caller, http), AuditedMethods.Action(method),
            AuditedMethods.Target(message), AuditDetail.Of(message), "started");
        AuditRecord row;
        try
        {
            row = await trail.AppendAsync(started, context.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError("Refused {Action} by {Actor}: its audit row could not be written: {Error}", started.Action, started.Actor, e.Message);
            throw new RpcException(new Status(StatusCode.Unavailable, "audit log: the call was not run because its audit row could not be written; try again"));
        }
        var outcome = "Internal";
        var detail = new Dictionary<string, string?> { ["started"] = row.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        try
        {
            var response = await continuation(request, context);
            outcome = "ok";
            detail["response"] = response is IMessage m ? AuditDetail.Of(m) : null;
            return response;
        }
        catch (RpcException e)
        {
            outcome = e.StatusCode.ToString();
            detail["status"] = e.Status.Detail;
            throw;
        }
        catch (OperationCanceledException)
        {
            outcome = nameof(StatusCode.Cancelled);
            throw;
        }
        finally
        {
            await trail.AppendOutcomeAsync(started with
            {
                AtMicros = Store.Micros.From(time.GetUtcNow()),
                Outcome = outcome,
                Detail = JsonSerializer.Serialize(detail, AuditOutcomeJson.Default.DictionaryStringString),
            });
        }
    }

    /// <summary>api-token, oidc-bearer (a JWT in the Authorization header) or oidc-session (the console's login cookie).</summary>
    public static string AuthMethod(CallerAccess caller, HttpContext http) =>
        caller.Scheme == ApiTokenHandler.AuthenticationType ? "api-token"
        : ApiTokenHandler.BearerToken(http.Request) is not null ? "oidc-bearer"
        : "oidc-session";
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string?>))]
internal sealed partial class AuditOutcomeJson : System.Text.Json.Serialization.JsonSerializerContext;

using V1 = Fim.Api.V1;
using System.Security.Claims;
using Fim.Manager.Api;
using Fim.Manager.Audit;
using Fim.Manager.Security;
using Fim.Manager.Store;
using Grpc.Core;

namespace Fim.Manager.WebConsole;

/// <summary>
/// Reviews from the console: the API's ReviewAlerts (AlertAccess: the role and scope checks, the reviewer taken from
/// the session) with the same two audit rows, under the same action name, so the audit log does not care which way an
/// analyst reviewed. The role is checked here again, not only by hiding the buttons.
/// </summary>
public sealed class ConsoleReviews(AlertAccess alerts, AuditTrail trail, GrantMapper grants, AuditLog audit, TimeProvider time)
{
    private static readonly string Action = AuditedMethods.Action(V1.FimManager.Descriptor.FindMethodByName(nameof(V1.FimManager.FimManagerClient.ReviewAlerts)));

    public Task<V1.ReviewAlertsResponse> ReviewAsync(ClaimsPrincipal user, IReadOnlyList<string> alertIds, string state, string? comment,
        CancellationToken cancellationToken)
    {
        var caller = grants.For(user);
        var request = new V1.ReviewAlertsRequest { State = state, Comment = comment ?? "" };
        request.AlertIds.Add(alertIds);
        if (!caller.Has(Role.Analyst))
        {
            // Refused before it runs, as the API's policy refuses it: a log line, not an audit row.
            audit.RefusedInConsole(caller, "review", AuditedMethods.Target(request));
            throw new RpcException(new Status(StatusCode.PermissionDenied, "reviewing alerts needs the analyst role"));
        }
        var started = new AuditDraft(Micros.From(time.GetUtcNow()), caller.Subject, "oidc-session", Action, AuditedMethods.Target(request),
            AuditDetail.Of(request), "started");
        return trail.RunAsync(started, () => alerts.ReviewAsync(caller, request, cancellationToken), cancellationToken);
    }
}

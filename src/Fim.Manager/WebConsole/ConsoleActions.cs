using V1 = Fim.Api.V1;
using System.Security.Claims;
using Fim.Manager.Api;
using Fim.Manager.Audit;
using Fim.Manager.Security;
using Fim.Manager.Store;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace Fim.Manager.WebConsole;

/// <summary>
/// What the console changes: reviews (the API's ReviewAlerts), scans (TriggerScan), agent removals (PruneAgents) and maintenance windows, through the same services as
/// the API (role and scope checks, the actor taken from the session) and with the same two audit rows under the same
/// action name, so the audit log does not care which way it was done. The role is checked here again, not only by
/// hiding the buttons.
/// </summary>
public sealed class ConsoleActions(AlertAccess alerts, AgentScans scans, Fleet.AgentPrunes prunes, Maintenance.MaintenanceAccess maintenance,
    AuditTrail trail, GrantMapper grants, AuditLog audit, TimeProvider time)
{
    private static readonly MethodDescriptor Review = V1.FimManager.Descriptor.FindMethodByName(nameof(V1.FimManager.FimManagerClient.ReviewAlerts));
    private static readonly MethodDescriptor Scan = V1.FimManager.Descriptor.FindMethodByName(nameof(V1.FimManager.FimManagerClient.TriggerScan));
    private static readonly MethodDescriptor Prune = V1.FimFleet.Descriptor.FindMethodByName(nameof(V1.FimFleet.FimFleetClient.PruneAgents));
    private static readonly MethodDescriptor OpenWindow =
        V1.FimMaintenance.Descriptor.FindMethodByName(nameof(V1.FimMaintenance.FimMaintenanceClient.CreateMaintenanceWindow));
    private static readonly MethodDescriptor EndWindow =
        V1.FimMaintenance.Descriptor.FindMethodByName(nameof(V1.FimMaintenance.FimMaintenanceClient.EndMaintenanceWindow));

    public Task<V1.ReviewAlertsResponse> ReviewAsync(ClaimsPrincipal user, IReadOnlyList<string> alertIds, string state, string? comment,
        CancellationToken cancellationToken)
    {
        var request = new V1.ReviewAlertsRequest { State = state, Comment = comment ?? "" };
        request.AlertIds.Add(alertIds);
        return RunAsync(user, Review, request, Role.Analyst, "review", "reviewing alerts needs the analyst role",
            caller => alerts.ReviewAsync(caller, request, cancellationToken), cancellationToken);
    }

    public Task<V1.TriggerScanResponse> ScanAsync(ClaimsPrincipal user, string agentId, CancellationToken cancellationToken)
    {
        var request = new V1.TriggerScanRequest { AgentId = agentId };
        return RunAsync(user, Scan, request, Role.Admin, "scan", "a scan on demand needs the admin role",
            caller => scans.ScanAsync(caller, agentId, cancellationToken), cancellationToken);
    }

    /// <summary>Removes one disconnected agent now (the API's PruneAgents for that agent, with no minimum silence beyond disconnection).</summary>
    public Task<V1.PruneAgentsResponse> RemoveAgentAsync(ClaimsPrincipal user, string agentId, CancellationToken cancellationToken)
    {
        var request = new V1.PruneAgentsRequest { AgentId = agentId, OlderThan = "0s" };
        return RunAsync(user, Prune, request, Role.Admin, "prune-agents", "removing an agent needs the admin role",
            caller => prunes.PruneAsync(caller, request, cancellationToken), cancellationToken);
    }

    public Task<V1.MaintenanceWindow> OpenMaintenanceAsync(ClaimsPrincipal user, V1.CreateMaintenanceWindowRequest request, CancellationToken cancellationToken) =>
        RunAsync(user, OpenWindow, request, Role.Analyst, "create-maintenance", "opening a maintenance window needs the analyst role",
            caller => maintenance.CreateAsync(caller, request, cancellationToken), cancellationToken);

    public Task<V1.MaintenanceWindow> EndMaintenanceAsync(ClaimsPrincipal user, string windowId, CancellationToken cancellationToken) =>
        RunAsync(user, EndWindow, new V1.EndMaintenanceWindowRequest { WindowId = windowId }, Role.Analyst, "end-maintenance",
            "ending a maintenance window needs the analyst role", caller => maintenance.EndAsync(caller, windowId, cancellationToken), cancellationToken);

    private Task<T> RunAsync<T>(ClaimsPrincipal user, MethodDescriptor method, IMessage request, Role role, string name, string refusal,
        Func<CallerAccess, Task<T>> call, CancellationToken cancellationToken)
    {
        var caller = grants.For(user);
        if (!caller.Has(role))
        {
            // Refused before it runs, as the API's policy refuses it: a log line, not an audit row.
            audit.RefusedInConsole(caller, name, AuditedMethods.Target(request));
            throw new RpcException(new Status(StatusCode.PermissionDenied, refusal));
        }
        var started = new AuditDraft(Micros.From(time.GetUtcNow()), caller.Subject, "oidc-session", AuditedMethods.Action(method),
            AuditedMethods.Target(request), AuditDetail.Of(request), "started");
        return trail.RunAsync(started, () => call(caller), cancellationToken);
    }
}

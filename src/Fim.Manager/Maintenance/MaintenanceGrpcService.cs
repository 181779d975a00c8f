using Fim.Api.V1;
using V1 = Fim.Api.V1;
using Fim.Manager.Security;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace Fim.Manager.Maintenance;

/// <summary>The gRPC and REST face of <see cref="MaintenanceAccess"/> (fimctl maintenance); opening and ending a window are audited.</summary>
public sealed class MaintenanceGrpcService(MaintenanceAccess maintenance, GrantMapper grants, AuditLog audit) : FimMaintenance.FimMaintenanceBase
{
    [Authorize(Policy = Roles.AnalystPolicy)]
    [Audited("create-maintenance")]
    public override Task<V1.MaintenanceWindow> CreateMaintenanceWindow(CreateMaintenanceWindowRequest request, ServerCallContext context) =>
        AuditedAsync(context, "create-maintenance", request.Reason ?? "", caller => maintenance.CreateAsync(caller, request, context.CancellationToken));

    [Authorize(Policy = Roles.ViewerPolicy)]
    public override Task<ListMaintenanceWindowsResponse> ListMaintenanceWindows(ListMaintenanceWindowsRequest request, ServerCallContext context) =>
        Task.FromResult(maintenance.List(request.IncludeClosed));

    [Authorize(Policy = Roles.AnalystPolicy)]
    [Audited("end-maintenance")]
    public override Task<V1.MaintenanceWindow> EndMaintenanceWindow(EndMaintenanceWindowRequest request, ServerCallContext context) =>
        AuditedAsync(context, "end-maintenance", request.WindowId ?? "", caller => maintenance.EndAsync(caller, request.WindowId, context.CancellationToken));

    private async Task<T> AuditedAsync<T>(ServerCallContext context, string action, string target, Func<CallerAccess, Task<T>> call)
    {
        var http = context.GetHttpContext();
        var caller = grants.For(http);
        try
        {
            var result = await call(caller);
            audit.Call(caller, http, action, result is V1.MaintenanceWindow w ? w.WindowId : target, "ok");
            return result;
        }
        catch (RpcException e)
        {
            audit.Call(caller, http, action, target, $"{e.StatusCode}: {e.Status.Detail}");
            throw;
        }
    }
}

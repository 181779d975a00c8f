using V1 = Fim.Api.V1;
using Fim.Manager.Security;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace Fim.Manager.Api;

/// <summary>The review trail: reviews of alerts (analyst), and the audit log's list and verification (fleet admin).</summary>
public sealed partial class FimManagerService
{
    [Authorize(Policy = Roles.AnalystPolicy)]
    public override Task<V1.ReviewAlertsResponse> ReviewAlerts(V1.ReviewAlertsRequest request, ServerCallContext context) =>
        alerts.ReviewAsync(Caller(context), request, context.CancellationToken);

    [Authorize(Policy = Roles.AdminPolicy)]
    public override Task<V1.ListAuditLogResponse> ListAuditLog(V1.ListAuditLogRequest request, ServerCallContext context) =>
        audits.ListAsync(Caller(context), request, context.CancellationToken);

    [Authorize(Policy = Roles.AdminPolicy)]
    public override Task<V1.VerifyAuditLogResponse> VerifyAuditLog(V1.VerifyAuditLogRequest request, ServerCallContext context) =>
        audits.VerifyAsync(Caller(context), context.CancellationToken);
}

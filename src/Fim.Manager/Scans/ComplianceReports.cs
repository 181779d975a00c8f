using Fim.Api.V1;
using Fim.Manager.Security;

namespace Fim.Manager.Scans;

/// <summary>
/// The compliance report of one caller: the request checked (InvalidArgument naming the field), then built over the
/// agents the caller may see. The API and the console both come here, so the same request gives the same report.
/// </summary>
public sealed class ComplianceReports(ComplianceReportBuilder builder, Fleet.AgentLifecycle lifecycle, TimeProvider time)
{
    public async Task<(ComplianceArguments Args, ComplianceReport Report)> BuildAsync(CallerAccess caller, GetComplianceReportRequest request,
        CancellationToken cancellationToken)
    {
        var args = ComplianceArguments.Parse(request, time.GetUtcNow());
        return (args, await builder.BuildAsync(args, caller, lifecycle.List("all"), cancellationToken));
    }

    /// <summary>The console's page of the report: <paramref name="size"/> agents after <paramref name="after"/> (ComplianceReportBuilder.BuildPageAsync).</summary>
    public Task<(ComplianceReport Report, int Agents, string? Next)> BuildPageAsync(CallerAccess caller, GetComplianceReportRequest request, string? after, int size,
        CancellationToken cancellationToken) =>
        builder.BuildPageAsync(ComplianceArguments.Parse(request, time.GetUtcNow()), caller, lifecycle.List("all"), after, size, cancellationToken);
}

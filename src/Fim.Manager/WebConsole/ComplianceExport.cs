using Fim.Manager.Scans;
using Fim.Manager.Security;
using Grpc.Core;

namespace Fim.Manager.WebConsole;

/// <summary>
/// The compliance page's CSV download: the page's own URL parameters, the signed-in user's grants and the API's
/// report and CSV writer, so the file is the report on the screen. A bad parameter is a 400 naming it, as plain text.
/// </summary>
public static class ComplianceExport
{
    public static async Task<IResult> CsvAsync(HttpContext http, ComplianceReports reports, GrantMapper grants, TimeProvider time,
        CancellationToken cancellationToken)
    {
        try
        {
            var request = ComplianceSearch.FromQuery(http.Request.Query).ToRequest(time.GetUtcNow(), csv: true);
            var (_, report) = await reports.BuildAsync(grants.For(http), request, cancellationToken);
            var name = $"fim-compliance-{report.From.ToDateTimeOffset():yyyyMMdd}-{report.To.ToDateTimeOffset():yyyyMMdd}.csv";
            return Results.File(ComplianceCsv.Write(report), "text/csv; charset=utf-8", name);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
        {
            return Results.Text(ConsoleParameters.UrlNames(e.Status.Detail), "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
        }
        catch (FormatException e)
        {
            return Results.Text(e.Message, "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
        }
    }
}

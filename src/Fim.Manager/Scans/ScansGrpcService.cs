using Fim.Api.V1;
using Fim.Contracts;
using Fim.Manager.Agents;
using Fim.Manager.Api;
using Fim.Manager.Options;
using Fim.Manager.Security;
using Fim.Manager.Store;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Scans;

/// <summary>
/// The scans API (fimctl scans) and the compliance report (fimctl report compliance), gRPC and REST. Both are reads
/// (viewer); a caller limited by agent labels or namespaces sees the scans of its agents and policies only.
/// </summary>
public sealed class ScansGrpcService(
    IScanStore store,
    AgentDirectory agents,
    ComplianceReports reports,
    GrantMapper grants,
    IOptions<ApiOptions> options,
    TimeProvider time) : FimScans.FimScansBase
{
    public static readonly TimeSpan DefaultScanSpan = TimeSpan.FromDays(7);

    private static readonly JsonFormatter ReportJson = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    [Authorize(Policy = Roles.ViewerPolicy)]
    public override async Task<ListScansResponse> ListScans(ListScansRequest request, ServerCallContext context)
    {
        var now = time.GetUtcNow();
        var agent = ApiArguments.AgentId(request.AgentId, required: false);
        var until = request.Until is null ? now : ApiArguments.Time(request.Until, "until");
        var since = request.Since is null ? until - DefaultScanSpan : ApiArguments.Time(request.Since, "since");
        if (since >= until)
        {
            throw ApiArguments.Invalid("since: must be before until");
        }
        if ((request.Policy ?? "").Length > 512)
        {
            throw ApiArguments.Invalid("policy: must be at most 512 characters");
        }
        var limit = ApiArguments.Limit(request.HasLimit, request.Limit);
        AlertCursor? after = null;
        if (request.Cursor.Length > 0 && !AlertCursor.TryDecode(request.Cursor, out after))
        {
            throw ApiArguments.Invalid("cursor: is not a cursor this API returned");
        }
        var query = new ScanQuery
        {
            AgentId = agent.Length == 0 ? null : agent,
            Policy = string.IsNullOrEmpty(request.Policy) ? null : request.Policy,
            Since = since,
            Until = until,
            Limit = limit,
            After = after,
        };
        var caller = grants.For(context.GetHttpContext());
        var unscoped = caller.HasUnscoped(Role.Viewer);
        var response = new ListScansResponse();
        long scanned = 0;
        while (true)
        {
            var page = await store.SearchScansAsync(query, context.CancellationToken);
            for (var i = 0; i < page.Rows.Count; i++)
            {
                var row = page.Rows[i];
                scanned++;
                if (ContractJson.ReadScan(row.Json) is not { } record || !(unscoped || Sees(caller, record)))
                {
                    continue;
                }
                response.Scans.Add(ToProto(record));
                if (response.Scans.Count == limit)
                {
                    var more = i < page.Rows.Count - 1 || page.Next is not null;
                    response.NextCursor = more ? row.Cursor.Encode() : "";
                    return response;
                }
            }
            if (page.Next is null)
            {
                return response;
            }
            if (scanned >= options.Value.MaxScan)
            {
                response.NextCursor = page.Next.Encode();
                return response;
            }
            query = query with { After = page.Next };
        }
    }

    [Authorize(Policy = Roles.ViewerPolicy)]
    public override async Task<Google.Api.HttpBody> GetComplianceReport(GetComplianceReportRequest request, ServerCallContext context)
    {
        var (args, report) = await reports.BuildAsync(grants.For(context.GetHttpContext()), request, context.CancellationToken);
        return args.Csv
            ? new Google.Api.HttpBody { ContentType = "text/csv; charset=utf-8", Data = ByteString.CopyFrom(ComplianceCsv.Write(report)) }
            : new Google.Api.HttpBody { ContentType = "application/json", Data = ByteString.CopyFromUtf8(ReportJson.Format(report)) };
    }

    /// <summary>Labels as the agent reported them with the scan, else its current ones.</summary>
    private bool Sees(CallerAccess caller, ScanRecord record) =>
        caller.SeesRecord(record.Labels.Count > 0 ? record.Labels : agents.TryGet(record.AgentId, out var a) ? a.Labels : null, record.Policy);

    public static Scan ToProto(ScanRecord r)
    {
        var scan = new Scan
        {
            ScanId = r.ScanId,
            AgentId = r.AgentId,
            Host = r.Host,
            Policy = r.Policy,
            PolicyRevision = r.PolicyRevision,
            Trigger = r.Trigger,
            StartedAt = Timestamp.FromDateTimeOffset(r.StartedAt),
            FinishedAt = Timestamp.FromDateTimeOffset(r.FinishedAt),
            DurationMs = r.DurationMs,
            Files = r.Files,
            Directories = r.Directories,
            BytesHashed = r.BytesHashed,
            Added = r.Added,
            Changed = r.Changed,
            Removed = r.Removed,
            Errors = r.Errors,
            Result = r.Result,
            BaselineDigest = r.BaselineDigest,
            ScheduleSeconds = r.ScheduleSeconds,
            Failure = r.Failure ?? "",
        };
        scan.Labels.Add(r.Labels.ToDictionary());
        return scan;
    }
}

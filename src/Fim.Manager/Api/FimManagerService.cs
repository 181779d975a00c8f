using V1 = Fim.Api.V1;
using Fim.Contracts;
using Fim.Manager.Agents;
using Fim.Manager.Security;
using Fim.Manager.Store;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using NATS.Client.JetStream;

namespace Fim.Manager.Api;

/// <summary>
/// The gRPC service (and, through JSON transcoding, the REST API under /api/v1). Each method names the role it needs;
/// reads return only the records the caller's grants let it see (agent labels, policy namespaces).
/// </summary>
public sealed partial class FimManagerService(
    Fleet.AgentLifecycle lifecycle,
    StreamQuery streams,
    AlertAccess alerts,
    AuditAccess audits,
    AgentScans agentScans,
    ApiTokens tokens,
    GrantMapper grants,
    AuditLog audit,
    TimeProvider time) : V1.FimManager.FimManagerBase
{
    [Authorize(Policy = Roles.ViewerPolicy)]
    public override Task<V1.ListAgentsResponse> ListAgents(V1.ListAgentsRequest request, ServerCallContext context)
    {
        var status = Fleet.FleetArguments.Status(request.Status);
        var caller = Caller(context);
        var response = new V1.ListAgentsResponse();
        response.Agents.Add(lifecycle.List(status).Where(v => caller.SeesAgent(v.Agent)).Select(Fleet.FleetMapping.ToProto));
        return Task.FromResult(response);
    }

    [Authorize(Policy = Roles.ViewerPolicy)]
    public override Task<V1.Agent> GetAgent(V1.GetAgentRequest request, ServerCallContext context)
    {
        var id = ApiArguments.AgentId(request.AgentId);
        // An agent outside the caller's scope is reported like an unknown one: its existence is not the caller's to know.
        return lifecycle.Get(id) is { } view && Caller(context).SeesAgent(view.Agent)
            ? Task.FromResult(Fleet.FleetMapping.ToProto(view))
            : throw new RpcException(new Status(StatusCode.NotFound, $"agent_id: no heartbeat from agent '{id}' in KV {Subjects.AgentsBucket}"));
    }

    [Authorize(Policy = Roles.ViewerPolicy)]
    public override async Task<V1.ListAlertsResponse> ListAlerts(V1.ListAlertsRequest request, ServerCallContext context)
    {
        var query = AlertFilters.From(request, time.GetUtcNow());
        var (rows, next, _) = await VisiblePageAsync(Caller(context), query, context.CancellationToken);
        var response = new V1.ListAlertsResponse { Truncated = next is not null, NextCursor = next?.Encode() ?? "" };
        response.Alerts.Add(rows.Select(r => ProtoMapping.ToProto(r.Alert, r.Row)));
        return response;
    }

    [Authorize(Policy = Roles.ViewerPolicy)]
    public override async Task<V1.CountAlertsResponse> CountAlerts(V1.CountAlertsRequest request, ServerCallContext context)
    {
        var agent = ApiArguments.AgentId(request.AgentId, required: false);
        var (since, until) = ApiArguments.Range(request.Since, request.Until, time.GetUtcNow());
        var query = new AlertQuery { Since = since, Until = until, AgentId = agent.Length == 0 ? null : agent };
        // One bucket as wide as the range (aligned to the epoch, so it may straddle two): summed below.
        var bucket = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling((until - since).TotalSeconds)));
        var (counts, truncated) = await alerts.CountAsync(Caller(context), new CountQuery(query, CountKey.Level, bucket), context.CancellationToken);
        var response = new V1.CountAlertsResponse { Truncated = truncated };
        foreach (var c in counts)
        {
            var level = int.Parse(c.Key, System.Globalization.CultureInfo.InvariantCulture);
            response.ByLevel[level] = (response.ByLevel.TryGetValue(level, out var n) ? n : 0) + (ulong)c.Count;
            response.Total += (ulong)c.Count;
        }
        return response;
    }

    [Authorize(Policy = Roles.ViewerPolicy)]
    public override async Task<V1.CountAlertsOverTimeResponse> CountAlertsOverTime(V1.CountAlertsOverTimeRequest request, ServerCallContext context)
    {
        var filter = request.Filter ?? new V1.ListAlertsRequest();
        if (filter.Cursor.Length > 0)
        {
            throw ApiArguments.Invalid("filter.cursor: counts take no cursor");
        }
        var query = AlertFilters.From(filter, time.GetUtcNow(), "filter.");
        var key = AlertFilters.GroupBy(request.GroupBy);
        var bucket = AlertFilters.Bucket(request.HasBucketSeconds, request.BucketSeconds, query);
        var (counts, truncated) = await alerts.CountAsync(Caller(context), new CountQuery(query, key, bucket), context.CancellationToken);
        var response = new V1.CountAlertsOverTimeResponse { Truncated = truncated };
        response.Buckets.Add(counts.Select(c => new V1.AlertCountBucket
        {
            Start = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(c.BucketStart),
            Key = c.Key,
            Count = (ulong)c.Count,
        }));
        return response;
    }

    [Authorize(Policy = Roles.ViewerPolicy)]
    public override async Task WatchAlerts(V1.WatchAlertsRequest request, IServerStreamWriter<V1.Alert> responseStream, ServerCallContext context)
    {
        var agent = ApiArguments.AgentId(request.AgentId, required: false);
        var minLevel = ApiArguments.MinLevel(request.HasMinLevel, request.MinLevel);
        var caller = Caller(context);
        var filter = agent.Length == 0 ? Subjects.AllAlerts : Subjects.AlertsOf(agent);
        // Headers go out as soon as the watch is in place, so a caller knows from when on it sees everything.
        await foreach (var msg in streams.WatchAsync(Subjects.AlertsStream, filter, () => context.WriteResponseHeadersAsync([]), context.CancellationToken))
        {
            if (AlertAccess.Read(msg.Data) is { } alert && alert.Level >= minLevel && Sees(caller, alert))
            {
                await responseStream.WriteAsync(ProtoMapping.ToProto(alert, msg), context.CancellationToken);
            }
        }
    }

    [Authorize(Policy = Roles.ViewerPolicy)]
    public override async Task<V1.GetFileHistoryResponse> GetFileHistory(V1.GetFileHistoryRequest request, ServerCallContext context)
    {
        var agent = ApiArguments.AgentId(request.AgentId);
        var path = ApiArguments.Path(request.Path);
        var limit = ApiArguments.Limit(request.HasLimit, request.Limit);
        var since = request.Since is null ? ApiArguments.MinTime : ApiArguments.Time(request.Since, "since");
        var until = request.Until is null ? ApiArguments.MaxTime : ApiArguments.Time(request.Until, "until");
        if (since >= until)
        {
            throw ApiArguments.Invalid("since: must be before until");
        }
        var query = new AlertQuery
        {
            AgentId = agent,
            Path = path,
            Since = since,
            Until = until,
            OldestFirst = true,
            Limit = limit,
            After = AlertFilters.Cursor(request.Cursor, "cursor"),
        };
        var (rows, next, scanned) = await VisiblePageAsync(Caller(context), query, context.CancellationToken);
        var response = new V1.GetFileHistoryResponse { Truncated = next is not null, NextCursor = next?.Encode() ?? "", Scanned = (ulong)scanned };
        response.Events.Add(rows.Select(r => ProtoMapping.ToEventProto(r.Alert, r.Row)));
        return response;
    }

    [Authorize(Policy = Roles.AdminPolicy)]
    [EnableRateLimiting(SecurityServices.ScanRateLimit)]
    [Audited("scan")]
    public override Task<V1.TriggerScanResponse> TriggerScan(V1.TriggerScanRequest request, ServerCallContext context) =>
        AuditedAsync(context, "scan", request.AgentId, caller => agentScans.ScanAsync(caller, request.AgentId, context.CancellationToken));

    [Authorize(Policy = Roles.AdminPolicy)]
    [Audited("create-token")]
    public override Task<V1.CreateApiTokenResponse> CreateApiToken(V1.CreateApiTokenRequest request, ServerCallContext context) =>
        AuditedAsync(context, "create-token", request.Name, caller => tokens.CreateAsync(caller, request, context.CancellationToken));

    [Authorize(Policy = Roles.AdminPolicy)]
    public override Task<V1.ListApiTokensResponse> ListApiTokens(V1.ListApiTokensRequest request, ServerCallContext context) =>
        tokens.ListAsync(Caller(context), context.CancellationToken);

    [Authorize(Policy = Roles.AdminPolicy)]
    [Audited("revoke-token")]
    public override Task<V1.ApiToken> RevokeApiToken(V1.RevokeApiTokenRequest request, ServerCallContext context) =>
        AuditedAsync(context, "revoke-token", request.TokenId, caller => tokens.RevokeAsync(caller, request.TokenId, context.CancellationToken));

    private CallerAccess Caller(ServerCallContext context) => grants.For(context.GetHttpContext());

    private bool Sees(CallerAccess caller, Alert alert) => alerts.Sees(caller, alert);

    private Task<(List<(Alert Alert, AlertRow Row)> Rows, AlertCursor? Next, long Scanned)> VisiblePageAsync(CallerAccess caller, AlertQuery query,
        CancellationToken cancellationToken) => alerts.PageAsync(caller, query, cancellationToken);

    /// <summary>Runs a mutating call and writes its audit line: ok, or the status it failed with.</summary>
    private async Task<T> AuditedAsync<T>(ServerCallContext context, string action, string target, Func<CallerAccess, Task<T>> call)
    {
        var http = context.GetHttpContext();
        var caller = grants.For(http);
        try
        {
            var result = await call(caller);
            audit.Call(caller, http, action, target, "ok");
            return result;
        }
        catch (RpcException e)
        {
            audit.Call(caller, http, action, target, $"{e.StatusCode}: {e.Status.Detail}");
            throw;
        }
    }
}

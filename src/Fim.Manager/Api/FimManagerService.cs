using V1 = Fim.Api.V1;
using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Agents;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Manager.Security;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.Manager.Api;

/// <summary>
/// The gRPC service (and, through JSON transcoding, the REST API under /api/v1). Each method names the role it needs;
/// reads return only the records the caller's grants let it see (agent labels, policy namespaces).
/// </summary>
public sealed class FimManagerService(
    AgentDirectory agents,
    Fleet.AgentLifecycle lifecycle,
    StreamQuery streams,
    NatsConnector nats,
    ScanCoalescer scans,
    ApiTokens tokens,
    GrantMapper grants,
    AuditLog audit,
    IOptions<ApiOptions> options,
    TimeProvider time,
    ILogger<FimManagerService> log) : V1.FimManager.FimManagerBase
{
    private static readonly byte[] ScanCommand = ContractJson.ToUtf8(AgentCommand.Scan);

    private readonly ApiOptions _options = options.Value;

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
        var agent = ApiArguments.AgentId(request.AgentId, required: false);
        var minLevel = ApiArguments.MinLevel(request.HasMinLevel, request.MinLevel);
        var limit = ApiArguments.Limit(request.HasLimit, request.Limit);
        var (since, until) = ApiArguments.Range(request.Since, request.Until, time.GetUtcNow());
        var response = new V1.ListAlertsResponse();
        await foreach (var (alert, msg) in VisibleAlertsAsync(Caller(context), agent, since, until, () => response.Truncated = true, context.CancellationToken))
        {
            if (alert.Level < minLevel)
            {
                continue;
            }
            if (response.Alerts.Count == limit)
            {
                response.Truncated = true;
                break;
            }
            response.Alerts.Add(ProtoMapping.ToProto(alert, msg));
        }
        return response;
    }

    [Authorize(Policy = Roles.ViewerPolicy)]
    public override async Task<V1.CountAlertsResponse> CountAlerts(V1.CountAlertsRequest request, ServerCallContext context)
    {
        var agent = ApiArguments.AgentId(request.AgentId, required: false);
        var (since, until) = ApiArguments.Range(request.Since, request.Until, time.GetUtcNow());
        var response = new V1.CountAlertsResponse();
        await foreach (var (alert, _) in VisibleAlertsAsync(Caller(context), agent, since, until, () => response.Truncated = true, context.CancellationToken))
        {
            response.ByLevel[alert.Level] = response.ByLevel.TryGetValue(alert.Level, out var n) ? n + 1 : 1;
            response.Total++;
        }
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
            if (Deserialize<Alert>(msg.Data) is { } alert && alert.Level >= minLevel && Sees(caller, alert))
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
        DateTimeOffset? since = request.Since is null ? null : ApiArguments.Time(request.Since, "since");
        var caller = Caller(context);
        var labels = agents.TryGet(agent, out var record) ? record.Labels : null;
        var response = new V1.GetFileHistoryResponse();
        await foreach (var msg in streams.ReadAsync(Subjects.EventsStream, Subjects.Events(agent), since, context.CancellationToken))
        {
            if (++response.Scanned > (ulong)_options.MaxScan)
            {
                response.Truncated = true;
                break;
            }
            if (Deserialize<FileEvent>(msg.Data) is not { } e || e.Path != path || !caller.SeesRecord(labels, e.Policy))
            {
                continue;
            }
            if (response.Events.Count == limit)
            {
                response.Truncated = true;
                break;
            }
            response.Events.Add(ProtoMapping.ToProto(e, msg));
        }
        return response;
    }

    [Authorize(Policy = Roles.AdminPolicy)]
    [EnableRateLimiting(SecurityServices.ScanRateLimit)]
    [Audited("scan")]
    public override Task<V1.TriggerScanResponse> TriggerScan(V1.TriggerScanRequest request, ServerCallContext context) =>
        AuditedAsync(context, "scan", request.AgentId, async caller =>
        {
            var agent = ApiArguments.AgentId(request.AgentId);
            var allowed = agents.TryGet(agent, out var record) ? caller.SeesAgent(record, Role.Admin) : caller.HasUnscoped(Role.Admin);
            if (!allowed)
            {
                throw new RpcException(new Status(StatusCode.PermissionDenied, $"agent_id: agent '{agent}' is outside the agents your admin role covers"));
            }
            var (outcome, joined) = await scans.RunAsync(agent, () => AskToScanAsync(agent), context.CancellationToken);
            return new V1.TriggerScanResponse { Ok = outcome.Ok, ResponseJson = outcome.ResponseJson, Joined = joined };
        });

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

    private bool Sees(CallerAccess caller, Alert alert) =>
        caller.SeesRecord(alert.Labels ?? (agents.TryGet(alert.AgentId, out var a) ? a.Labels : null), alert.Policy);

    /// <summary>The caller's alerts of [since, until), oldest first, within the scan budget (onTruncated when it runs out).</summary>
    private async IAsyncEnumerable<(Alert Alert, INatsJSMsg<byte[]> Msg)> VisibleAlertsAsync(CallerAccess caller, string agent,
        DateTimeOffset since, DateTimeOffset until, Action onTruncated, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = agent.Length == 0 ? Subjects.AllAlerts : Subjects.AlertsOf(agent);
        var scanned = 0;
        await foreach (var msg in streams.ReadAsync(Subjects.AlertsStream, filter, since, cancellationToken))
        {
            if (msg.Metadata is { } meta && meta.Timestamp >= until)
            {
                yield break;
            }
            if (++scanned > _options.MaxScan)
            {
                onTruncated();
                yield break;
            }
            if (Deserialize<Alert>(msg.Data) is { } alert && Sees(caller, alert))
            {
                yield return (alert, msg);
            }
        }
    }

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

    private async Task<ScanOutcome> AskToScanAsync(string agent)
    {
        // Not the caller's token: others may join this request, and the reply timeout bounds it.
        var connection = await nats.ConnectedAsync(CancellationToken.None);
        var subject = Subjects.AgentCommand(agent);
        NatsMsg<byte[]> reply;
        try
        {
            reply = await connection.RequestAsync<byte[], byte[]>(subject, ScanCommand,
                requestSerializer: NatsRawSerializer<byte[]>.Default, replySerializer: NatsRawSerializer<byte[]>.Default,
                replyOpts: new NatsSubOpts { Timeout = _options.ScanTimeout });
        }
        catch (NatsNoRespondersException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"agent_id: no agent '{agent}' is listening on {subject}"));
        }
        catch (NatsNoReplyException)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"agent_id: agent '{agent}' did not answer within {_options.ScanTimeout}"));
        }
        if (reply.HasNoResponders)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"agent_id: no agent '{agent}' is listening on {subject}"));
        }
        var json = System.Text.Encoding.UTF8.GetString(reply.Data ?? []);
        var ok = false;
        try
        {
            ok = JsonSerializer.Deserialize(reply.Data ?? [], ContractJson.Default.AgentReply)?.Ok == true;
        }
        catch (JsonException)
        {
            log.LogWarning("Agent {Agent} answered the scan request with something that is not an agent reply", agent);
        }
        return new ScanOutcome(ok, json);
    }

    private static T? Deserialize<T>(byte[]? data) where T : class
    {
        try
        {
            return data is null ? null : JsonSerializer.Deserialize<T>(data, ContractJson.Default.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

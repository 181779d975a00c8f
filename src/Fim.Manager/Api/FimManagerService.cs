using V1 = Fim.Api.V1;
using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Agents;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Grpc.Core;
using Microsoft.Extensions.Options;
using NATS.Client.Core;

namespace Fim.Manager.Api;

/// <summary>The gRPC service (and, through JSON transcoding, the REST API under /api/v1).</summary>
public sealed class FimManagerService(
    AgentDirectory agents,
    StreamQuery streams,
    NatsConnector nats,
    IOptions<ApiOptions> options,
    TimeProvider time,
    ILogger<FimManagerService> log) : V1.FimManager.FimManagerBase
{
    private static readonly byte[] ScanCommand = ContractJson.ToUtf8(AgentCommand.Scan);

    private readonly ApiOptions _options = options.Value;

    public override Task<V1.ListAgentsResponse> ListAgents(V1.ListAgentsRequest request, ServerCallContext context)
    {
        var response = new V1.ListAgentsResponse();
        response.Agents.Add(agents.All.Select(ProtoMapping.ToProto));
        return Task.FromResult(response);
    }

    public override Task<V1.Agent> GetAgent(V1.GetAgentRequest request, ServerCallContext context)
    {
        var id = ApiArguments.AgentId(request.AgentId);
        return agents.TryGet(id, out var agent)
            ? Task.FromResult(ProtoMapping.ToProto(agent))
            : throw new RpcException(new Status(StatusCode.NotFound, $"agent_id: no heartbeat from agent '{id}' in KV {Subjects.AgentsBucket}"));
    }

    public override async Task<V1.ListAlertsResponse> ListAlerts(V1.ListAlertsRequest request, ServerCallContext context)
    {
        var agent = ApiArguments.AgentId(request.AgentId, required: false);
        var minLevel = ApiArguments.MinLevel(request.HasMinLevel, request.MinLevel);
        var limit = ApiArguments.Limit(request.HasLimit, request.Limit);
        var (since, until) = ApiArguments.Range(request.Since, request.Until, time.GetUtcNow());
        var filter = agent.Length == 0 ? Subjects.AllAlerts : Subjects.AlertsOf(agent);
        var response = new V1.ListAlertsResponse();
        var scanned = 0;
        await foreach (var msg in streams.ReadAsync(Subjects.AlertsStream, filter, since, context.CancellationToken))
        {
            if (msg.Metadata is { } meta && meta.Timestamp >= until)
            {
                break;
            }
            if (++scanned > _options.MaxScan)
            {
                response.Truncated = true;
                break;
            }
            if (Deserialize<Alert>(msg.Data) is not { } alert || alert.Level < minLevel)
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

    public override async Task<V1.GetFileHistoryResponse> GetFileHistory(V1.GetFileHistoryRequest request, ServerCallContext context)
    {
        var agent = ApiArguments.AgentId(request.AgentId);
        var path = ApiArguments.Path(request.Path);
        var limit = ApiArguments.Limit(request.HasLimit, request.Limit);
        DateTimeOffset? since = request.Since is null ? null : ApiArguments.Time(request.Since, "since");
        var response = new V1.GetFileHistoryResponse();
        await foreach (var msg in streams.ReadAsync(Subjects.EventsStream, Subjects.Events(agent), since, context.CancellationToken))
        {
            if (++response.Scanned > (ulong)_options.MaxScan)
            {
                response.Truncated = true;
                break;
            }
            if (Deserialize<FileEvent>(msg.Data) is not { } e || e.Path != path)
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

    public override async Task<V1.TriggerScanResponse> TriggerScan(V1.TriggerScanRequest request, ServerCallContext context)
    {
        var agent = ApiArguments.AgentId(request.AgentId);
        var connection = await nats.ConnectedAsync(context.CancellationToken);
        var subject = Subjects.AgentCommand(agent);
        NatsMsg<byte[]> reply;
        try
        {
            reply = await connection.RequestAsync<byte[], byte[]>(subject, ScanCommand,
                requestSerializer: NatsRawSerializer<byte[]>.Default, replySerializer: NatsRawSerializer<byte[]>.Default,
                replyOpts: new NatsSubOpts { Timeout = _options.ScanTimeout }, cancellationToken: context.CancellationToken);
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
        return new V1.TriggerScanResponse { Ok = ok, ResponseJson = json };
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

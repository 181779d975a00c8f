using V1 = Fim.Api.V1;
using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Agents;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Manager.Security;
using Grpc.Core;
using Microsoft.Extensions.Options;
using NATS.Client.Core;

namespace Fim.Manager.Api;

/// <summary>
/// Asks an agent to scan now, for one caller: an admin over that agent (by its labels, or unscoped for an agent
/// without a heartbeat), one request per agent at a time (ScanCoalescer). The API's TriggerScan and the console's
/// Scan now both come here.
/// </summary>
public sealed class AgentScans(AgentDirectory agents, ScanCoalescer scans, NatsConnector nats, IOptions<ApiOptions> options, ILogger<AgentScans> log)
{
    private static readonly byte[] ScanCommand = ContractJson.ToUtf8(AgentCommand.Scan);

    public static bool MayScan(CallerAccess caller, AgentRecord agent) => caller.SeesAgent(agent, Role.Admin);

    public async Task<V1.TriggerScanResponse> ScanAsync(CallerAccess caller, string agentId, CancellationToken cancellationToken)
    {
        var agent = ApiArguments.AgentId(agentId);
        var allowed = agents.TryGet(agent, out var record) ? MayScan(caller, record) : caller.HasUnscoped(Role.Admin);
        if (!allowed)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"agent_id: agent '{agent}' is outside the agents your admin role covers"));
        }
        var (outcome, joined) = await scans.RunAsync(agent, () => AskAsync(agent), cancellationToken);
        return new V1.TriggerScanResponse { Ok = outcome.Ok, ResponseJson = outcome.ResponseJson, Joined = joined };
    }

    private async Task<ScanOutcome> AskAsync(string agent)
    {
        // Not the caller's token: others may join this request, and the reply timeout bounds it.
        var connection = await nats.ConnectedAsync(CancellationToken.None);
        var subject = Subjects.AgentCommand(agent);
        var timeout = options.Value.ScanTimeout;
        NatsMsg<byte[]> reply;
        try
        {
            reply = await connection.RequestAsync<byte[], byte[]>(subject, ScanCommand,
                requestSerializer: NatsRawSerializer<byte[]>.Default, replySerializer: NatsRawSerializer<byte[]>.Default,
                replyOpts: new NatsSubOpts { Timeout = timeout });
        }
        catch (NatsNoRespondersException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"agent_id: no agent '{agent}' is listening on {subject}"));
        }
        catch (NatsNoReplyException)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"agent_id: agent '{agent}' did not answer within {timeout}"));
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
}

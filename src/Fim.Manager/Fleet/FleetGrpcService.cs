using V1 = Fim.Api.V1;
using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Fim.Contracts;
using Fim.Manager.Agents;
using Fim.Manager.Api;
using Fim.Manager.Nats;
using Fim.Manager.Security;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using NATS.Client.Core;

namespace Fim.Manager.Fleet;

/// <summary>
/// The fleet API (gRPC fim.v1.FimFleet and its REST mirror): pruning disconnected agents (admin, audited) and the live
/// fleet query (viewer), which asks every agent the caller may see and the selector picks, and streams their answers.
/// </summary>
public sealed class FleetGrpcService(
    AgentDirectory agents,
    AgentPrunes prunes,
    NatsConnector nats,
    GrantMapper grants,
    AuditLog audit,
    IOptions<FleetOptions> options,
    ILogger<FleetGrpcService> log) : V1.FimFleet.FimFleetBase
{
    public const string Present = "present";
    public const string Absent = "absent";
    public const string Error = "error";
    public const string NoAnswer = "no-answer";

    [Authorize(Policy = Roles.AdminPolicy)]
    [Audited("prune-agents")]
    public override async Task<V1.PruneAgentsResponse> PruneAgents(V1.PruneAgentsRequest request, ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var caller = grants.For(http);
        var target = request.AgentId.Length > 0 ? request.AgentId : $"status={request.Status} olderThan={request.OlderThan}";
        try
        {
            var response = await prunes.PruneAsync(caller, request, context.CancellationToken);
            audit.Call(caller, http, "prune-agents", target, $"ok: removed {string.Join(",", response.Removed.Select(r => r.AgentId))}");
            return response;
        }
        catch (RpcException e)
        {
            audit.Call(caller, http, "prune-agents", target, $"{e.StatusCode}: {e.Status.Detail}");
            throw;
        }
    }

    [Authorize(Policy = Roles.ViewerPolicy)]
    public override async Task QueryFleet(V1.QueryFleetRequest request, IServerStreamWriter<V1.FleetAnswer> responseStream, ServerCallContext context)
    {
        var path = FleetArguments.Path(request.Path);
        var selector = FleetArguments.Selector(request.Selector);
        var timeout = FleetArguments.Timeout(request.Timeout, options.Value);
        var caller = grants.For(context.GetHttpContext());
        var targets = agents.All.Where(a => caller.SeesAgent(a) && selector.Matches(a.Labels)).ToList();
        var connection = await nats.ConnectedAsync(context.CancellationToken);
        var command = ContractJson.ToUtf8(AgentCommand.StatPath(path));
        var deadline = Stopwatch.StartNew();
        var answers = Channel.CreateUnbounded<V1.FleetAnswer>();
        using var gate = new SemaphoreSlim(options.Value.QueryConcurrency);
        var asks = targets.Select(async agent =>
        {
            await gate.WaitAsync(context.CancellationToken);
            try
            {
                var left = timeout - deadline.Elapsed;
                var answer = left <= TimeSpan.Zero
                    ? Missing(agent, $"no answer within {FleetArguments.Format(timeout)}")
                    : await AskAsync(connection, agent, command, left, timeout, caller, context.CancellationToken);
                answers.Writer.TryWrite(answer);
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        var all = Task.WhenAll(asks).ContinueWith(_ => answers.Writer.TryComplete(), TaskScheduler.Default);
        // Headers first: a REST or gRPC client sees the call accepted before the first agent answers.
        await context.WriteResponseHeadersAsync([]);
        await foreach (var answer in answers.Reader.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(answer, context.CancellationToken);
        }
        await all;
        await Task.WhenAll(asks);
    }

    private async Task<V1.FleetAnswer> AskAsync(NatsConnection connection, AgentRecord agent, byte[] command, TimeSpan left, TimeSpan timeout,
        CallerAccess caller, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        NatsMsg<byte[]> reply;
        try
        {
            reply = await connection.RequestAsync<byte[], byte[]>(Subjects.AgentCommand(agent.AgentId), command,
                requestSerializer: NatsRawSerializer<byte[]>.Default, replySerializer: NatsRawSerializer<byte[]>.Default,
                replyOpts: new NatsSubOpts { Timeout = left }, cancellationToken: cancellationToken);
        }
        catch (NatsNoRespondersException)
        {
            return Missing(agent, "no agent is listening on its command subject");
        }
        catch (NatsNoReplyException)
        {
            return Missing(agent, $"no answer within {FleetArguments.Format(timeout)}");
        }
        catch (NatsException e)
        {
            // NATS away or the request refused: this agent is unanswered, the others' answers still count.
            return Missing(agent, $"the request failed: {e.Message}");
        }
        if (reply.HasNoResponders)
        {
            return Missing(agent, "no agent is listening on its command subject");
        }
        var answer = new V1.FleetAnswer { AgentId = agent.AgentId, Host = agent.Host, ElapsedMs = started.Elapsed.TotalMilliseconds };
        AgentReply? parsed = null;
        try
        {
            parsed = reply.Data is { Length: > 0 and <= AgentCommand.MaxBytes * 4 } data ? JsonSerializer.Deserialize(data, ContractJson.Default.AgentReply) : null;
        }
        catch (JsonException)
        {
        }
        if (parsed is null)
        {
            log.LogWarning("Agent {Agent} answered stat-path with something that is not an agent reply", agent.AgentId);
            answer.Outcome = Error;
            answer.Error = "the agent's answer is not an agent reply";
            return answer;
        }
        // A caller limited to namespaces sees a path only under a policy of those namespaces.
        if (parsed.Policy is { } policy && !caller.SeesRecord(agent.Labels, policy))
        {
            answer.Outcome = Error;
            answer.Error = "path not under any policy you may see";
            return answer;
        }
        answer.Policy = parsed.Policy ?? "";
        if (!parsed.Ok)
        {
            answer.Outcome = Error;
            answer.Error = parsed.Error ?? "the agent refused without saying why";
            return answer;
        }
        if (parsed.Exists != true || parsed.State is not { } state)
        {
            answer.Outcome = Absent;
            return answer;
        }
        answer.Outcome = Present;
        answer.StateJson = JsonSerializer.Serialize(state, ContractJson.Default.FileState);
        answer.Sha256 = state.Sha256 ?? "";
        answer.Size = state.Size;
        answer.Mode = state.Mode;
        answer.Owner = state.Owner ?? "";
        answer.Group = state.Group ?? "";
        answer.Type = state.Type;
        answer.Mtime = Timestamp.FromDateTimeOffset(state.Mtime);
        return answer;
    }

    private static V1.FleetAnswer Missing(AgentRecord agent, string why) =>
        new() { AgentId = agent.AgentId, Host = agent.Host, Outcome = NoAnswer, Error = why };
}

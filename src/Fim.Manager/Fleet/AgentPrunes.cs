using V1 = Fim.Api.V1;
using Fim.Contracts;
using Fim.Manager.Agents;
using Fim.Manager.Api;
using Fim.Manager.Security;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Fim.Manager.Fleet;

/// <summary>
/// Removes disconnected agents for one caller: one named agent, or every disconnected one silent for longer than
/// older_than, among the agents the caller's admin role covers; an active agent is refused. The API's PruneAgents and
/// the console's Remove both come here.
/// </summary>
public sealed class AgentPrunes(AgentDirectory agents, AgentLifecycle lifecycle, TimeProvider time)
{
    public async Task<V1.PruneAgentsResponse> PruneAsync(CallerAccess caller, V1.PruneAgentsRequest request, CancellationToken cancellationToken)
    {
        FleetArguments.PruneStatus(request.Status);
        var olderThan = FleetArguments.Duration(request.OlderThan, "older_than");
        var agentId = ApiArguments.AgentId(request.AgentId, required: false);
        var now = time.GetUtcNow();
        var cutoff = now - olderThan;
        IEnumerable<AgentRecord> candidates = agents.All.Where(a => caller.SeesAgent(a, Role.Admin));
        if (agentId.Length > 0)
        {
            if (!agents.TryGet(agentId, out var one) || !caller.SeesAgent(one, Role.Admin))
            {
                throw new RpcException(new Status(StatusCode.NotFound, $"agent_id: no agent '{agentId}' with a heartbeat that your admin role covers"));
            }
            if (lifecycle.StatusOf(one) == AgentLifecycle.Active)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"agent_id: agent '{agentId}' is active (last heartbeat {(now - one.LastSeen).TotalSeconds:F0}s ago); only agents without a heartbeat for {FleetArguments.Format(lifecycle.DisconnectedAfter)} can be removed"));
            }
            candidates = [one];
        }
        var due = candidates.Where(a => lifecycle.StatusOf(a) == AgentLifecycle.Disconnected && a.LastSeen <= cutoff).ToList();
        var outcome = await lifecycle.PruneAsync(due, cutoff, caller.Subject, AgentRemoval.ByApi, cancellationToken);
        var response = new V1.PruneAgentsResponse();
        response.Kept.Add(outcome.Kept);
        response.Removed.Add(outcome.Removed.Select(r => new V1.RemovedAgent
        {
            AgentId = r.AgentId,
            Host = r.LastHeartbeat?.Hostname ?? "",
            LastSeen = Timestamp.FromDateTimeOffset(r.LastSeen),
            RemovedAt = Timestamp.FromDateTimeOffset(r.RemovedAt),
            RemovedBy = r.RemovedBy,
        }));
        return response;
    }
}

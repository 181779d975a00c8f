using System.Text.Json;
using Fim.Contracts;
using Fim.Operator.Controllers.NodeStatus;
using NATS.Client.Core;

namespace Fim.Operator.Nats;

/// <summary>Re-baseline requests over NATS request/reply on fim.agent.&lt;id&gt;.rebaseline (the operator's user may publish there; managers may not).</summary>
public sealed class NatsRebaseliner(Func<NatsConnection?> connection) : IAgentRebaseliner
{
    public async Task<AgentReply> RebaselineAsync(string agentId, AgentCommand command, CancellationToken ct)
    {
        var nats = connection() ?? throw new KvUnavailableException("not connected to NATS yet");
        var reply = await nats.RequestAsync<byte[], byte[]>(Subjects.AgentRebaseline(agentId), ContractJson.ToUtf8(command), cancellationToken: ct);
        if (reply.Error is { } error)
        {
            return AgentReply.Failure(error.Message);
        }

        return reply.Data is { Length: > 0 } data
            ? JsonSerializer.Deserialize(data, ContractJson.Default.AgentReply) ?? AgentReply.Failure("empty reply")
            : AgentReply.Failure("no agent answers on " + Subjects.AgentRebaseline(agentId));
    }
}

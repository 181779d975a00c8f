using System.Text.Json;
using Fim.Contracts;
using Fim.Nats;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Fim.Agent.Connected;

/// <summary>
/// Answers re-baseline requests on fim.agent.&lt;agentId&gt;.rebaseline. NATS permissions let only the operator's user
/// publish there (managers, which may send every other command, may not), so the request's arrival on this subject is
/// what authorises it; the same command on fim.agent.&lt;agentId&gt;.cmd is refused.
/// </summary>
public sealed class RebaselineResponder(NatsConnection nats, AgentIdentity identity, DriftCounters drift, AgentStatus status, AgentRetries retries, TimeProvider time,
    ILogger<RebaselineResponder> logger) : BackgroundService
{
    public string Subject { get; } = Subjects.AgentRebaseline(identity.AgentId);

    protected override Task ExecuteAsync(CancellationToken ct) => retries.AnswerCommands.KeepRunningAsync(async token =>
    {
        await using var sub = await nats.SubscribeCoreAsync<byte[]>(Subject, cancellationToken: token);
        await nats.PingAsync(token);
        logger.LogInformation("answering re-baseline requests on {Subject}", Subject);
        await foreach (var msg in sub.Msgs.ReadAllAsync(token))
        {
            var reply = Handle(msg.Data ?? []);
            if (msg.ReplyTo is not null)
            {
                await msg.ReplyAsync(ContractJson.ToUtf8(reply), cancellationToken: token);
            }
        }
    }, ct);

    public AgentReply Handle(ReadOnlySpan<byte> request)
    {
        AgentCommand? command;
        try
        {
            command = request.Length is > 0 and <= AgentCommand.MaxBytes ? JsonSerializer.Deserialize(request, ContractJson.Default.AgentCommand) : null;
        }
        catch (JsonException e)
        {
            return AgentReply.Failure($"malformed request: {e.Message}");
        }
        if (command is null || command.Command != AgentCommand.RebaselineName)
        {
            return AgentReply.Failure($"malformed request: expected {{\"command\":\"{AgentCommand.RebaselineName}\",\"requestId\":...,\"requestedBy\":...}}");
        }
        if (string.IsNullOrEmpty(command.RequestId) || string.IsNullOrEmpty(command.RequestedBy))
        {
            return AgentReply.Failure("rebaseline needs a string \"requestId\" and a string \"requestedBy\"");
        }
        var done = drift.Rebaseline(command.Policy, command.RequestId, command.RequestedBy);
        if (command.Policy is not null && done.Count == 0)
        {
            return AgentReply.Failure($"policy '{command.Policy}' is not running on this agent");
        }
        status.Changed();
        return new AgentReply { Ok = true, Rebaselined = done, Time = time.GetUtcNow() };
    }
}

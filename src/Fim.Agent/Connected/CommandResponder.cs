using Fim.Agent.Telemetry;
using Fim.Nats;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Fim.Agent.Connected;

/// <summary>Answers requests on fim.agent.&lt;agentId&gt;.cmd with <see cref="CommandHandler"/>; the client resubscribes after reconnects.</summary>
public sealed class CommandResponder(NatsConnection nats, AgentIdentity identity, CommandHandler handler, AgentRetries retries, ILogger<CommandResponder> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken ct) => retries.AnswerCommands.KeepRunningAsync(async token =>
    {
        await using var sub = await nats.SubscribeCoreAsync<byte[]>(identity.CommandSubject, cancellationToken: token);
        // The round trip makes sure the server has the subscription before we say we are listening.
        await nats.PingAsync(token);
        logger.LogInformation("answering commands on {Subject}", identity.CommandSubject);
        await foreach (var msg in sub.Msgs.ReadAllAsync(token))
        {
            var reply = handler.Handle(msg.Data ?? []);
            AgentMetrics.Commands.Inc();
            if (msg.ReplyTo is not null)
            {
                await msg.ReplyAsync(reply, cancellationToken: token);
            }
        }
    }, ct);
}

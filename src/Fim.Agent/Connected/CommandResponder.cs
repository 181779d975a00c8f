using Fim.Agent.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Fim.Agent.Connected;

/// <summary>Answers requests on fim.agent.&lt;agentId&gt;.cmd with <see cref="CommandHandler"/>; the client resubscribes after reconnects.</summary>
public sealed class CommandResponder(NatsConnection nats, AgentIdentity identity, CommandHandler handler, ILogger<CommandResponder> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var sub = await nats.SubscribeCoreAsync<byte[]>(identity.CommandSubject, cancellationToken: ct);
                // The round trip makes sure the server has the subscription before we say we are listening.
                await nats.PingAsync(ct);
                logger.LogInformation("answering commands on {Subject}", identity.CommandSubject);
                await foreach (var msg in sub.Msgs.ReadAllAsync(ct))
                {
                    var reply = handler.Handle(msg.Data ?? []);
                    AgentMetrics.Commands.Inc();
                    if (msg.ReplyTo is not null)
                    {
                        await msg.ReplyAsync(reply, cancellationToken: ct);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("command subscription on {Subject} failed: {Error}; resubscribing", identity.CommandSubject, e.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}

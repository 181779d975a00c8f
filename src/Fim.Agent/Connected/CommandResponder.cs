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
                await foreach (var msg in nats.SubscribeAsync<byte[]>(identity.CommandSubject, cancellationToken: ct))
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

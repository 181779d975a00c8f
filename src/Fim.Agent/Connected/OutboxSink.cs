using Fim.Agent.Monitoring;
using Fim.Core.Baseline;
using Fim.Contracts;
using Fim.Core.Events;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Connected;

/// <summary>
/// The connected agent's sink: each change becomes an event with its id and trace context, and the events go into
/// the policy store's outbox in the same transaction as the baseline updates. When the outbox is full, batches with
/// changes are refused (the loop then leaves its baseline behind and rescans later): no event is dropped.
/// A baseline that replaces one the anchor remembered adds a baseline-reset event to its first commit.
/// </summary>
/// <param name="enrich">Adds what the engine's change does not know (the writer's workload, the container holding the file) before the event is stored.</param>
public sealed class OutboxSink(Outbox outbox, EventIdSource ids, EventOrigin origin, ILogger logger, Packages.PackageAwareness? packages = null, Action<FileEvent>? enrich = null,
    DriftCounters? drift = null) : IChangeSink
{
    public bool CanAccept => outbox.HasRoom;

    public bool Commit(MonitorSession session, ChangeBatch batch)
    {
        if (batch.Changes.Count > 0 && !outbox.HasRoom)
        {
            outbox.CountRefused();
            return false;
        }
        var messages = new List<OutboxMessage>(batch.Changes.Count + 1);
        if (session.PendingReset is { } reset)
        {
            // Committed with the new baseline: after a crash both are there, or neither and the reset is found again.
            var e = EventRecords.ForReset(reset, session.StateDirectory, session.Policy.Name, origin, ids.Next(), DateTimeOffset.UtcNow);
            messages.Add(new OutboxMessage(e.EventId, AgentTracing.NewTraceParent(), ContractJson.ToUtf8(e)));
        }
        foreach (var change in batch.Changes)
        {
            var e = EventRecords.From(change, origin, ids.Next());
            packages?.Annotate(change, e);
            enrich?.Invoke(e);
            messages.Add(new OutboxMessage(e.EventId, AgentTracing.NewTraceParent(), ContractJson.ToUtf8(e)));
        }
        session.Commit(batch.Updates, messages, batch.Snapshot);
        if (session.TakeAnchorWarning() is { } warning)
        {
            logger.LogWarning("{Warning}", warning);
        }
        drift?.Count(session.Policy.Name, batch.Changes);
        if (messages.Count > 0)
        {
            outbox.Accepted();
        }
        return true;
    }

    public void Notice(string message) => logger.LogInformation("{Notice}", message);
}

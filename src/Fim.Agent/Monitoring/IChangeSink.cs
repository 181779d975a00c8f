using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Agent.Monitoring;

/// <summary>What a scan or a realtime batch found: the baseline updates and the changes they reflect.</summary>
/// <param name="Snapshot">Commit as a new snapshot (after a full scan) rather than a journal append.</param>
public sealed record ChangeBatch(IReadOnlyList<BaselineUpdate> Updates, IReadOnlyList<FileChange> Changes, bool Snapshot);

/// <summary>
/// Where the monitoring loop hands its findings: it commits the baseline updates together with the report of the
/// changes (printed alerts for the standalone agent, the durable outbox for the connected one).
/// </summary>
public interface IChangeSink
{
    /// <summary>
    /// Commits <paramref name="batch"/> to <paramref name="session"/>'s baseline and reports its changes.
    /// Returns false when the sink cannot take changes now (its outbox is full): then nothing was committed, the
    /// baseline still shows the old state, and the caller must rescan once <see cref="CanAccept"/> is true again.
    /// </summary>
    bool Commit(MonitorSession session, ChangeBatch batch);

    /// <summary>False while the sink refuses batches.</summary>
    bool CanAccept { get; }

    /// <summary>A notice for people that is not a change (baseline recorded...).</summary>
    void Notice(string message);
}

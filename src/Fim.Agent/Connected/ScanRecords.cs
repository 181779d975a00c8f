using Fim.Agent.Monitoring;
using Fim.Contracts;
using Fim.Core.Baseline;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Connected;

/// <summary>
/// Turns each completed scan into a <see cref="ScanRecord"/> and queues it in the policy store's outbox (one journal
/// append after the scan's own commit), so the publisher delivers it to fim.scans.&lt;agentId&gt; whenever NATS is
/// there, like the events. A scan whose changes the full outbox refused gets no record: the rescan that follows once
/// the outbox drains does.
/// </summary>
public sealed class ScanRecords(Outbox outbox, AgentIdentity identity, ILogger logger)
{
    public void Record(MonitorSession session, AssignedPolicy policy, ScanOutcome scan)
    {
        if (!scan.Committed)
        {
            return;
        }
        var record = For(identity, policy, scan, session.BaselineDigest, session.Policy.RescanInterval);
        try
        {
            session.Commit([], [new OutboxMessage(record.MessageId, null, ContractJson.ToUtf8(record))], snapshot: false);
            outbox.Signal();
        }
        catch (Cli.AgentException e)
        {
            // The scan itself is committed; only its evidence is missing, and the next scan writes another.
            logger.LogError("policy {Policy}: cannot queue the record of its {Trigger} scan: {Error}", policy.Name, scan.Trigger, e.Message);
        }
    }

    public static ScanRecord For(AgentIdentity identity, AssignedPolicy policy, ScanOutcome scan, string baselineDigest, TimeSpan schedule) => new()
    {
        ScanId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)),
        AgentId = identity.AgentId,
        Host = identity.Hostname,
        Labels = identity.Labels,
        Policy = policy.Name,
        PolicyRevision = policy.Revision,
        Trigger = scan.Trigger,
        StartedAt = scan.StartedAt,
        FinishedAt = scan.FinishedAt,
        DurationMs = Math.Round(scan.Duration.TotalMilliseconds, 3),
        Files = scan.Files,
        Directories = scan.Directories,
        BytesHashed = scan.BytesHashed,
        Added = scan.Added,
        Changed = scan.Changed,
        Removed = scan.Removed,
        Errors = scan.Errors,
        Result = ScanRecord.ResultOf(scan.Added + scan.Changed + scan.Removed, scan.Errors),
        BaselineDigest = baselineDigest,
        ScheduleSeconds = (long)schedule.TotalSeconds,
        Failure = scan.Failure,
    };
}

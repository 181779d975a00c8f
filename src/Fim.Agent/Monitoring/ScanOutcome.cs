using Fim.Core.Model;
using Fim.Core.Scanning;

namespace Fim.Agent.Monitoring;

/// <summary>
/// A full scan as it ended, with everything a scan record reports: counts by kind of change, what was examined, and
/// whether its changes were committed (false when the outbox refused them) or why it failed as a whole.
/// </summary>
public sealed record ScanOutcome(
    string Policy,
    string Trigger,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    TimeSpan Duration,
    long Files,
    long Directories,
    long BytesHashed,
    int Added,
    int Changed,
    int Removed,
    int Errors,
    bool Committed,
    string? Failure)
{
    public static ScanOutcome From(string policy, string trigger, DateTimeOffset startedAt, DateTimeOffset finishedAt, ScanResult result, bool committed)
    {
        int added = 0, changed = 0, removed = 0;
        foreach (var c in result.Changes)
        {
            switch (c.Kind)
            {
                case ChangeKind.Added:
                    added++;
                    break;
                case ChangeKind.Deleted:
                    removed++;
                    break;
                default:
                    changed++;
                    break;
            }
        }
        return new ScanOutcome(policy, trigger, startedAt, finishedAt, result.Stats.Elapsed, result.Stats.Files, result.Stats.Directories,
            result.Stats.BytesHashed, added, changed, removed, result.Issues.Count, committed, null);
    }

    public static ScanOutcome Failed(string policy, string trigger, DateTimeOffset startedAt, DateTimeOffset finishedAt, string failure) =>
        new(policy, trigger, startedAt, finishedAt, finishedAt - startedAt, 0, 0, 0, 0, 0, 0, 1, true, failure);
}

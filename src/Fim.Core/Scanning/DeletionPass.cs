using Fim.Core.Baseline;
using Fim.Core.Model;
using Fim.Core.Native;

namespace Fim.Core.Scanning;

/// <summary>
/// The deletion pass of a scan: baseline entries below a start that the walk did not see are gone, unless they sit
/// below a directory it could not read; entries a policy change put out of scope leave the baseline without an event.
/// </summary>
internal sealed class DeletionPass(ScanScope scope, ScanOptions options, string policyName)
{
    public void Run(TreeWalk walk, IBaselineView baseline, int generation, List<byte[]> starts)
    {
        var vanished = new HashSet<byte[]>(walk.VanishedDirectories, PathComparer.Instance);
        if (vanished.Count > 0)
        {
            // Directories recorded from their parent's listing that were gone by the time they were opened.
            foreach (var output in walk.Outputs)
            {
                output.Updates.RemoveAll(u => vanished.Contains(u.Path));
                output.Changes.RemoveAll(c => vanished.Contains(c.Path));
            }
            foreach (var path in vanished)
            {
                if (baseline.TryGet(path, out var old))
                {
                    baseline.MarkSeen(old, 0);
                }
            }
        }
        var unverified = walk.UnverifiedDirectories();
        // Every baseline record was met on the walk: none can be missing, so skip the pass over all of them.
        if (vanished.Count == 0 && unverified.Length == 0 &&
            walk.Outputs.Sum(o => o.SeenInBaseline) == baseline.Count)
        {
            return;
        }
        var now = options.Time.GetUtcNow();
        foreach (var record in baseline.All)
        {
            if (baseline.SeenGeneration(record) == generation || !IsBelowAny(record.Path, starts, orEqual: true) ||
                IsBelowAny(record.Path, unverified, orEqual: false))
            {
                continue;
            }
            walk.StartOutput.Updates.Add(new BaselineUpdate(record.Path, null));
            // Entries a policy change put out of scope leave the baseline quietly; they were not deleted.
            if (scope.Covers(record.Path, record.Type) && !options.RecordOnly)
            {
                walk.StartOutput.Changes.Add(new FileChange(ChangeKind.Deleted, record.Path, record, null, ChangedAttributes.None, options.Source, now, policyName));
            }
        }
    }

    private static bool IsBelowAny(byte[] path, IReadOnlyList<byte[]> roots, bool orEqual)
    {
        foreach (var root in roots)
        {
            if (PathBytes.IsUnder(path, root) && (orEqual || path.Length > root.Length))
            {
                return true;
            }
        }
        return false;
    }
}

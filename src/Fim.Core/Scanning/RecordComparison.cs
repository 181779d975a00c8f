using Fim.Core.Baseline;
using Fim.Core.Model;
using Fim.Core.Native;
using Fim.Core.Policy;

namespace Fim.Core.Scanning;

/// <summary>
/// The comparison stage of a scan: whether a baseline record still describes what a stat shows (so nothing needs
/// reading), whether its hashes can be reused, and the change between an old and a new record.
/// </summary>
internal sealed class RecordComparison(CompiledPolicy policy, ScanOptions options, NameCache names)
{
    public ScanOptions Options => options;

    public FileChange? Diff(byte[] path, FileRecord? old, FileRecord? current, CompiledPathRule rule, out BaselineUpdate? update)
    {
        if (old is not null && current is not null && Identical(old, current))
        {
            update = null;
            return null;
        }
        update = old is null && current is null ? null : new BaselineUpdate(path, current);
        return ChangeDetector.Compare(path, old, current, rule.Checks, options.Source, options.Time.GetUtcNow(), policy.Name);
    }

    /// <summary>
    /// The cheap test that keeps an unchanged rescan fast: same stat, same names, and hashes that can be reused,
    /// means a fresh record would equal the old one. A symlink's target cannot change without a new inode and ctime.
    /// </summary>
    public bool StillValid(FileRecord old, in FileStat stat, CompiledPathRule rule)
    {
        if (old.Type != stat.Type || old.Mode != stat.Mode || old.Uid != stat.Uid || old.Gid != stat.Gid ||
            old.Size != stat.Size || old.MtimeNs != stat.MtimeNs || old.CtimeNs != stat.CtimeNs ||
            old.Inode != stat.Inode || old.Device != stat.Device || old.LinkCount != stat.LinkCount ||
            (rule.Checks & CheckAttributes.Xattrs) != 0)
        {
            return false;
        }
        if ((rule.Checks & CheckAttributes.Owner) != 0 ? old.Owner != names.User(stat.Uid) : old.Owner is not null)
        {
            return false;
        }
        if ((rule.Checks & CheckAttributes.Group) != 0 ? old.Group != names.Group(stat.Gid) : old.Group is not null)
        {
            return false;
        }
        if (stat.Type != FileType.Regular || !rule.WantsHash)
        {
            return old.HashStatus == HashStatus.NotApplicable;
        }
        return !options.VerifyFull && CanReuseHashes(old, stat, rule);
    }

    public bool CanReuseHashes(FileRecord? old, FileStat stat, CompiledPathRule rule)
    {
        if (old is null || old.Type != FileType.Regular || old.HashStatus != HashStatus.Hashed ||
            old.Size != stat.Size || old.MtimeNs != stat.MtimeNs || old.CtimeNs != stat.CtimeNs ||
            old.Inode != stat.Inode || old.Device != stat.Device)
        {
            return false;
        }
        foreach (var kind in rule.HashKinds)
        {
            if (!old.HasHash(kind))
            {
                return false;
            }
        }
        return true;
    }

    internal static bool Identical(FileRecord a, FileRecord b) =>
        a.HashStatus == b.HashStatus &&
        ChangeDetector.Differences(a, b, (CheckAttributes)uint.MaxValue) == ChangedAttributes.None &&
        a.Digests.SameDigests(b.Digests);
}

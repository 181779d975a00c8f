namespace Fim.Core.Model;

/// <summary>Compares two observations of one path under a set of checked attributes. Pure.</summary>
public static class ChangeDetector
{
    /// <summary>Returns the checked attributes that differ.</summary>
    public static ChangedAttributes Differences(FileRecord before, FileRecord after, CheckAttributes checks)
    {
        var changed = ChangedAttributes.None;
        void Add(CheckAttributes check, ChangedAttributes flag, bool differs)
        {
            if ((checks & check) != 0 && differs)
            {
                changed |= flag;
            }
        }

        Add(CheckAttributes.Type, ChangedAttributes.Type, before.Type != after.Type);
        Add(CheckAttributes.Size, ChangedAttributes.Size, before.Size != after.Size);
        Add(CheckAttributes.Mode, ChangedAttributes.Mode, before.Mode != after.Mode);
        Add(CheckAttributes.Uid, ChangedAttributes.Uid, before.Uid != after.Uid);
        Add(CheckAttributes.Gid, ChangedAttributes.Gid, before.Gid != after.Gid);
        Add(CheckAttributes.Owner, ChangedAttributes.Owner, before.Uid == after.Uid && before.Owner != after.Owner);
        Add(CheckAttributes.Group, ChangedAttributes.Group, before.Gid == after.Gid && before.Group != after.Group);
        Add(CheckAttributes.Mtime, ChangedAttributes.Mtime, before.MtimeNs != after.MtimeNs);
        Add(CheckAttributes.Ctime, ChangedAttributes.Ctime, before.CtimeNs != after.CtimeNs);
        Add(CheckAttributes.Inode, ChangedAttributes.Inode, before.Inode != after.Inode);
        Add(CheckAttributes.LinkCount, ChangedAttributes.LinkCount, before.LinkCount != after.LinkCount);
        Add(CheckAttributes.Device, ChangedAttributes.Device, before.Device != after.Device);
        Add(CheckAttributes.SymlinkTarget, ChangedAttributes.SymlinkTarget, !before.SymlinkTarget.AsSpan().SequenceEqual(after.SymlinkTarget));
        if ((checks & CheckAttributes.Hash) != 0 && before.Type == FileType.Regular && after.Type == FileType.Regular)
        {
            for (var i = 0; i < HashAlgorithmNames.Count; i++)
            {
                var kind = (HashAlgorithmKind)i;
                if (before.HasHash(kind) && after.HasHash(kind) && !before.Digests.Get(kind).SequenceEqual(after.Digests.Get(kind)))
                {
                    changed |= ChangedAttributeNames.Of((HashAlgorithmKind)i);
                }
            }
            // A file that became unhashable (unstable, unreadable, too large) cannot be proven unchanged.
            if (before.HashStatus != after.HashStatus && before.HashStatus == HashStatus.Hashed)
            {
                changed |= ChangedAttributes.HashStatus;
            }
        }
        Add(CheckAttributes.Xattrs, ChangedAttributes.Xattrs, !XattrsEqual(before.Xattrs, after.Xattrs));
        return changed;
    }

    /// <summary>Classifies a change, or returns null when nothing checked differs.</summary>
    public static FileChange? Compare(
        byte[] path, FileRecord? before, FileRecord? after, CheckAttributes checks,
        DetectionSource source, DateTimeOffset observedAt, string? policyName = null)
    {
        if (before is null && after is null)
        {
            return null;
        }
        if (before is null)
        {
            return new FileChange(ChangeKind.Added, path, null, after, ChangedAttributes.None, source, observedAt, policyName);
        }
        if (after is null)
        {
            return new FileChange(ChangeKind.Deleted, path, before, null, ChangedAttributes.None, source, observedAt, policyName);
        }
        var changed = Differences(before, after, checks);
        if (changed == ChangedAttributes.None)
        {
            return null;
        }
        var kind = before.Type != after.Type
            ? ChangeKind.TypeChanged
            : (changed & ChangedAttributes.Content) != 0 ? ChangeKind.Modified : ChangeKind.Attributes;
        return new FileChange(kind, path, before, after, changed, source, observedAt, policyName);
    }

    private static bool XattrsEqual(IReadOnlyList<KeyValuePair<string, byte[]>>? a, IReadOnlyList<KeyValuePair<string, byte[]>>? b)
    {
        a ??= [];
        b ??= [];
        if (a.Count != b.Count)
        {
            return false;
        }
        for (var i = 0; i < a.Count; i++)
        {
            if (a[i].Key != b[i].Key || !a[i].Value.AsSpan().SequenceEqual(b[i].Value))
            {
                return false;
            }
        }
        return true;
    }
}

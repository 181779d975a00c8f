namespace Fim.Core.Model;

/// <summary>Compares two observations of one path under a set of checked attributes. Pure.</summary>
public static class ChangeDetector
{
    /// <summary>Returns the names of the checked attributes that differ, in a stable order.</summary>
    public static List<string> Differences(FileRecord before, FileRecord after, CheckAttributes checks)
    {
        var changed = new List<string>();
        void Add(CheckAttributes flag, bool differs, string? name = null)
        {
            if ((checks & flag) != 0 && differs)
            {
                changed.Add(name ?? flag.ToName());
            }
        }

        Add(CheckAttributes.Type, before.Type != after.Type);
        Add(CheckAttributes.Size, before.Size != after.Size);
        Add(CheckAttributes.Mode, before.Mode != after.Mode);
        Add(CheckAttributes.Uid, before.Uid != after.Uid);
        Add(CheckAttributes.Gid, before.Gid != after.Gid);
        Add(CheckAttributes.Owner, before.Uid == after.Uid && before.Owner != after.Owner);
        Add(CheckAttributes.Group, before.Gid == after.Gid && before.Group != after.Group);
        Add(CheckAttributes.Mtime, before.MtimeNs != after.MtimeNs);
        Add(CheckAttributes.Ctime, before.CtimeNs != after.CtimeNs);
        Add(CheckAttributes.Inode, before.Inode != after.Inode);
        Add(CheckAttributes.LinkCount, before.LinkCount != after.LinkCount);
        Add(CheckAttributes.Device, before.Device != after.Device);
        Add(CheckAttributes.SymlinkTarget, !before.SymlinkTarget.AsSpan().SequenceEqual(after.SymlinkTarget));
        if ((checks & CheckAttributes.Hash) != 0 && before.Type == FileType.Regular && after.Type == FileType.Regular)
        {
            for (var i = 0; i < HashAlgorithmNames.Count; i++)
            {
                var a = before.GetHash((HashAlgorithmKind)i);
                var b = after.GetHash((HashAlgorithmKind)i);
                if (a is not null && b is not null && !a.AsSpan().SequenceEqual(b))
                {
                    changed.Add(((HashAlgorithmKind)i).ToName());
                }
            }
            // A file that became unhashable (unstable, unreadable, too large) cannot be proven unchanged.
            if (before.HashStatus != after.HashStatus && before.HashStatus == HashStatus.Hashed)
            {
                changed.Add("hash-status");
            }
        }
        Add(CheckAttributes.Xattrs, !XattrsEqual(before.Xattrs, after.Xattrs));
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
            return new FileChange(ChangeKind.Added, path, null, after, [], source, observedAt, policyName);
        }
        if (after is null)
        {
            return new FileChange(ChangeKind.Deleted, path, before, null, [], source, observedAt, policyName);
        }
        var changed = Differences(before, after, checks);
        if (changed.Count == 0)
        {
            return null;
        }
        var kind = before.Type != after.Type
            ? ChangeKind.TypeChanged
            : changed.Any(IsContentAttribute) ? ChangeKind.Modified : ChangeKind.Attributes;
        return new FileChange(kind, path, before, after, changed, source, observedAt, policyName);
    }

    private static bool IsContentAttribute(string name) =>
        name is "size" or "target" or "hash-status" || HashAlgorithmNames.TryParse(name, out _);

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

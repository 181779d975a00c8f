using Fim.Core.Model;
using Fim.Core.Native;
using Fim.Core.Policy;

namespace Fim.Core.Scanning;

/// <summary>
/// The record-building and hashing stage of a scan: turns one entry's stat into a <see cref="FileRecord"/>, reusing
/// the baseline's hashes when the comparison stage allows it and reading the content otherwise.
/// </summary>
internal sealed class RecordBuilder(ScanOptions options, RecordComparison compare, NameCache names)
{
    /// <summary>One per thread: a hasher keeps its read buffer between files.</summary>
    public ContentHasher CreateHasher(CancellationToken ct = default) => new(options.Throttle, options.AfterFirstChunk, ct);

    public FileRecord Build(
        ContentHasher hasher, ScanStats stats, int dirFd, byte[] nameZ, byte[] path, FileStat stat, CompiledPathRule rule,
        FileRecord? old, out ScanIssue? issue)
    {
        issue = null;
        var hashStatus = HashStatus.NotApplicable;
        var digests = RecordDigests.None;
        if (stat.Type == FileType.Regular && rule.WantsHash)
        {
            if (!options.VerifyFull && compare.CanReuseHashes(old, stat, rule))
            {
                hashStatus = HashStatus.Hashed;
                digests = old!.Digests;
                Interlocked.Increment(ref stats._hashesReused);
            }
            else if (stat.Size > rule.MaxFileSize)
            {
                hashStatus = HashStatus.TooLarge;
            }
            else
            {
                var before = hasher.BytesRead;
                var outcome = hasher.Hash(dirFd, nameZ, path, rule.HashKinds, rule.MaxFileSize, out var hashedStat, out var hashes);
                digests = RecordDigests.Pack(hashes);
                Interlocked.Add(ref stats._bytesHashed, hasher.BytesRead - before);
                switch (outcome)
                {
                    case HashOutcome.Hashed:
                        hashStatus = HashStatus.Hashed;
                        stat = hashedStat;
                        Interlocked.Increment(ref stats._filesHashed);
                        break;
                    case HashOutcome.TooLarge:
                        hashStatus = HashStatus.TooLarge;
                        stat = hashedStat;
                        break;
                    case HashOutcome.Unstable:
                        hashStatus = HashStatus.Unstable;
                        stat = hashedStat;
                        issue = new ScanIssue(ScanIssueKind.Unstable, PathBytes.ToDisplay(path), "changed on every read; recorded without a hash");
                        break;
                    case HashOutcome.Replaced or HashOutcome.Vanished:
                        // Swapped for something else between listing and opening: record what is there now.
                        if (Posix.StatPath(path, false, out var now) == 0)
                        {
                            stat = now;
                        }
                        break;
                    default:
                        hashStatus = HashStatus.Unreadable;
                        issue = new ScanIssue(ScanIssueKind.Unreadable, PathBytes.ToDisplay(path), Libc.Describe(hasher.Errno));
                        break;
                }
            }
        }
        return new FileRecord
        {
            Path = path,
            Type = stat.Type,
            Mode = stat.Mode,
            Ownership = Ownership.Of(stat.Uid, stat.Gid,
                (rule.Checks & CheckAttributes.Owner) != 0 ? names.User(stat.Uid) : null,
                (rule.Checks & CheckAttributes.Group) != 0 ? names.Group(stat.Gid) : null, stat.Device),
            Size = stat.Size,
            MtimeNs = stat.MtimeNs,
            CtimeNs = stat.CtimeNs,
            Inode = stat.Inode,
            LinkCount = stat.LinkCount,
            SymlinkTarget = stat.Type == FileType.Symlink ? Posix.ReadLinkAt(dirFd, nameZ) : null,
            HashStatus = hashStatus,
            Digests = digests,
            Xattrs = (rule.Checks & CheckAttributes.Xattrs) != 0 ? Posix.ReadXattrs(path) : null,
        };
    }
}

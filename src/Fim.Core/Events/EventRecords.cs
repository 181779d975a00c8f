using Fim.Contracts;
using Fim.Core.Model;

namespace Fim.Core.Events;

/// <summary>The engine's changes and records as the wire records of Fim.Contracts.</summary>
public static class EventRecords
{
    public static FileEvent From(FileChange change, EventOrigin origin, string eventId)
    {
        var path = origin.HostPath(change.Path);
        return new FileEvent
        {
            EventId = eventId,
            AgentId = origin.AgentId,
            Host = origin.Host,
            Policy = change.PolicyName,
            Path = PathBytes.ToDisplay(path),
            PathBase64 = PathBytes.IsValidUtf8(path) ? null : Convert.ToBase64String(path),
            Kind = change.Kind.ToName(),
            Changed = [.. change.ChangedNames],
            Before = change.Before is null ? null : StateOf(change.Before),
            After = change.After is null ? null : StateOf(change.After),
            Source = change.Source.ToName(),
            ObservedAt = change.ObservedAt,
            Actor = change.Actor,
            Diff = HostHeaders(change.DiffText, change.DisplayPath, PathBytes.ToDisplay(path)),
            DiffInfo = change.DiffInfo,
            Growth = change.Growth,
            Flapping = change.Flapping,
        };
    }

    /// <summary>The event reporting that the baseline in <paramref name="stateDirectory"/> was replaced.</summary>
    public static FileEvent ForReset(Baseline.BaselineReset reset, string stateDirectory, string? policy, EventOrigin origin, string eventId, DateTimeOffset now) => new()
    {
        EventId = eventId,
        AgentId = origin.AgentId,
        Host = origin.Host,
        Policy = policy,
        Path = stateDirectory,
        Kind = FileEvent.BaselineResetKind,
        Changed = [],
        Source = DetectionSource.Scan.ToName(),
        ObservedAt = now,
        Reset = new BaselineResetInfo
        {
            Reason = reset.Reason,
            Detail = reset.Detail,
            PreviousGeneration = reset.Previous?.Generation,
            PreviousSavedAt = reset.Previous?.SavedAt,
        },
    };

    /// <summary>The diff's file headers name the path as the host knows it, like the event does (not the agent's /host mount).</summary>
    private static string? HostHeaders(string? diff, string agentPath, string hostPath)
    {
        if (diff is null || agentPath == hostPath)
        {
            return diff;
        }
        var old = $"--- a{agentPath}\n+++ b{agentPath}\n";
        return diff.StartsWith(old, StringComparison.Ordinal) ? $"--- a{hostPath}\n+++ b{hostPath}\n" + diff[old.Length..] : diff;
    }

    public static FileState StateOf(FileRecord r) => new()
    {
        Type = r.Type.ToName(),
        Size = r.Size,
        Mode = Convert.ToString(r.Mode, 8).PadLeft(4, '0'),
        Uid = r.Uid,
        Gid = r.Gid,
        Owner = r.Owner,
        Group = r.Group,
        Mtime = FromNs(r.MtimeNs),
        Ctime = FromNs(r.CtimeNs),
        Inode = r.Inode,
        Device = r.Device,
        Nlink = r.LinkCount,
        Target = r.SymlinkTarget is { } t ? PathBytes.ToDisplay(t) : null,
        TargetBase64 = r.SymlinkTarget is { } t2 && !PathBytes.IsValidUtf8(t2) ? Convert.ToBase64String(t2) : null,
        HashStatus = r.HashStatus switch
        {
            HashStatus.TooLarge => "too-large",
            HashStatus.Unreadable => "unreadable",
            HashStatus.Unstable => "unstable",
            _ => null,
        },
        Sha256 = Hex(r, HashAlgorithmKind.Sha256),
        Sha512 = Hex(r, HashAlgorithmKind.Sha512),
        Sha1 = Hex(r, HashAlgorithmKind.Sha1),
        Md5 = Hex(r, HashAlgorithmKind.Md5),
        Xxh128 = Hex(r, HashAlgorithmKind.Xxh128),
        Xattrs = r.Xattrs?.ToDictionary(x => x.Key, x => Convert.ToBase64String(x.Value)),
    };

    private static DateTimeOffset FromNs(long ns) =>
        DateTimeOffset.UnixEpoch.AddTicks(ns / 100);

    private static string? Hex(FileRecord r, HashAlgorithmKind kind) => r.HasHash(kind) ? Convert.ToHexStringLower(r.Digests.Get(kind)) : null;
}

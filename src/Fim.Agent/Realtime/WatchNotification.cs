using Fim.Core.Model;

namespace Fim.Agent.Realtime;

/// <summary>What the watcher tells its consumer: a path to look at again, or a subtree to rescan.</summary>
public abstract record WatchNotification;

/// <summary>
/// Something happened to <paramref name="Path"/>. The hint says what the kernel reported; the consumer stats the
/// path to learn the current state, so hints are advisory and several may be combined.
/// </summary>
public sealed record PathChanged(byte[] Path, ChangeHint Hint, bool IsDirectory) : WatchNotification
{
    /// <summary>Who made the change, when the source can tell (fanotify); null from inotify.</summary>
    public Fim.Contracts.Actor? Actor { get; init; }

    public override string ToString() => $"PathChanged({PathBytes.ToDisplay(Path)}, {Hint}, dir={IsDirectory})";
}

/// <summary>Events under <paramref name="Root"/> may have been missed: compare the whole subtree with the baseline.</summary>
public sealed record SubtreeRescan(byte[] Root, RescanReason Reason) : WatchNotification
{
    public override string ToString() => $"SubtreeRescan({PathBytes.ToDisplay(Root)}, {Reason})";
}

[Flags]
public enum ChangeHint
{
    None = 0,
    Written = 1,
    Attributes = 2,
    Created = 4,
    Deleted = 8,
    MovedIn = 16,
    MovedOut = 32,
}

public enum RescanReason
{
    /// <summary>The kernel queue overflowed (IN_Q_OVERFLOW); events anywhere may be lost.</summary>
    QueueOverflow,
    /// <summary>A directory could not be watched because the inotify watch limit was reached.</summary>
    WatchLimit,
    /// <summary>A directory appeared; entries created before its watch existed are only found by a scan.</summary>
    NewDirectory,
    /// <summary>A directory was moved; its contents now live under a new path (or left the old one).</summary>
    DirectoryMoved,
    /// <summary>A watch could not be set or was removed by the kernel (e.g. unmount).</summary>
    WatchError,
}

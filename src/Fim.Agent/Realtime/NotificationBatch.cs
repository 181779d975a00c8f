using Fim.Core.Model;

namespace Fim.Agent.Realtime;

/// <summary>
/// The notifications produced by one read of the inotify fd, coalesced per path (hints OR-ed) and kept in
/// first-seen order, so a create+modify+close that arrives together becomes one notification.
/// </summary>
internal sealed class NotificationBatch
{
    private readonly List<Entry> _entries = [];
    private readonly Dictionary<byte[], int> _changeIndex = new(PathComparer.Instance);
    private readonly Dictionary<byte[], int> _rescanIndex = new(PathComparer.Instance);

    public int Count => _entries.Count;

    public void Change(byte[] path, ChangeHint hint, bool isDirectory)
    {
        if (_changeIndex.TryGetValue(path, out var i))
        {
            var e = _entries[i];
            _entries[i] = e with { Hint = e.Hint | hint, IsDirectory = e.IsDirectory || isDirectory };
            return;
        }
        _changeIndex.Add(path, _entries.Count);
        _entries.Add(new Entry(path, hint, isDirectory, null));
    }

    public void Rescan(byte[] root, RescanReason reason)
    {
        if (_rescanIndex.ContainsKey(root))
        {
            return;
        }
        _rescanIndex.Add(root, _entries.Count);
        _entries.Add(new Entry(root, ChangeHint.None, true, reason));
    }

    public List<WatchNotification> Drain()
    {
        var result = new List<WatchNotification>(_entries.Count);
        foreach (var e in _entries)
        {
            result.Add(e.Reason is { } reason
                ? new SubtreeRescan(e.Path, reason)
                : new PathChanged(e.Path, e.Hint, e.IsDirectory));
        }
        _entries.Clear();
        _changeIndex.Clear();
        _rescanIndex.Clear();
        return result;
    }

    private readonly record struct Entry(byte[] Path, ChangeHint Hint, bool IsDirectory, RescanReason? Reason);
}

using System.Globalization;
using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Storage;

/// <summary>Watch registration (replay from history or the current state), bookmarks, and the test hooks on watches.</summary>
public sealed partial class ApiStore
{
    public WatchSubscription Watch(WatchRequest request, string? resourceVersion, bool sendInitialEvents)
    {
        lock (_gate)
        {
            var b = Bucket(request.Type.GroupResource);
            var sub = new WatchSubscription(request);
            if (sendInitialEvents || string.IsNullOrEmpty(resourceVersion) || resourceVersion == "0")
            {
                foreach (var (_, obj) in b.Items)
                {
                    if (sub.Matches(obj))
                    {
                        sub.Enqueue("ADDED", obj);
                    }
                }

                if (sendInitialEvents && request.AllowBookmarks)
                {
                    sub.EnqueueBookmark(_rv, initialEventsEnd: true);
                }
            }
            else
            {
                if (!long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var from))
                {
                    throw ApiError.BadRequest($"invalid resource version \"{resourceVersion}\"");
                }

                if (from < b.WindowStart)
                {
                    sub.EnqueueError(ApiError.Expired($"too old resource version: {from} ({b.WindowStart})"));
                    return sub;
                }

                foreach (var ev in b.History)
                {
                    if (ev.ResourceVersion > from)
                    {
                        sub.EnqueueEvent(ev);
                    }
                }
            }

            b.Watchers.Add(sub);
            return sub;
        }
    }

    public void Unwatch(WatchSubscription sub)
    {
        lock (_gate)
        {
            if (_buckets.TryGetValue(sub.Request.Type.GroupResource, out var b))
            {
                b.Watchers.Remove(sub);
            }
        }
    }

    public void Bookmark(WatchSubscription sub)
    {
        lock (_gate)
        {
            sub.EnqueueBookmark(_rv, initialEventsEnd: false);
        }
    }

    public int OpenWatchCount
    {
        get
        {
            lock (_gate)
            {
                return _buckets.Values.Sum(b => b.Watchers.Count);
            }
        }
    }

    /// <summary>Ends every open watch (cleanly, or by aborting the connection).</summary>
    public int CutWatches(bool abortConnections)
    {
        lock (_gate)
        {
            var n = 0;
            foreach (var b in _buckets.Values)
            {
                foreach (var w in b.Watchers)
                {
                    w.End(abortConnections);
                    n++;
                }

                b.Watchers.Clear();
            }

            return n;
        }
    }

    /// <summary>Drops all retained events: a watch from any resourceVersion older than now gets 410 Gone.</summary>
    public void CompactHistory()
    {
        lock (_gate)
        {
            _compactedThrough = _rv;
            foreach (var b in _buckets.Values)
            {
                b.History.Clear();
                b.WindowStart = _rv;
            }
        }
    }
}

using System.Text.Json.Nodes;

namespace Fim.Testing.KubeApi.Storage;

/// <summary>Per-resource bounded event history plus the open watches on that resource.</summary>
internal sealed class ResourceBucket(string groupResource, int historyCapacity, long windowStart)
{
    public string GroupResource { get; } = groupResource;

    /// <summary>Objects keyed by <c>namespace/name</c> (or <c>name</c>), in key order like etcd.</summary>
    public SortedDictionary<string, JsonObject> Items { get; } = new(StringComparer.Ordinal);

    public Queue<StoredEvent> History { get; } = new();

    /// <summary>A watch may start at any resourceVersion &gt;= this; older ones get 410 Gone.</summary>
    public long WindowStart { get; set; } = windowStart;

    public List<WatchSubscription> Watchers { get; } = [];

    public void Publish(StoredEvent ev)
    {
        History.Enqueue(ev);
        while (History.Count > historyCapacity)
        {
            WindowStart = History.Dequeue().ResourceVersion;
        }

        foreach (var w in Watchers)
        {
            w.EnqueueEvent(ev);
        }
    }
}

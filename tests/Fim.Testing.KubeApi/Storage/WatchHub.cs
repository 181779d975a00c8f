using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Fim.Testing.KubeApi.Model;
using Fim.Testing.KubeApi.Printing;
using Fim.Testing.KubeApi.Selectors;

namespace Fim.Testing.KubeApi.Storage;

/// <summary>A stored change: what watchers see and what the bounded history replays.</summary>
public sealed record StoredEvent(string Type, JsonObject Object, JsonObject? Previous, long ResourceVersion);

/// <summary>What a watch asks for (namespace, selectors, output shape).</summary>
public sealed record WatchRequest(
    ResourceType Type,
    string? Namespace,
    LabelSelector Labels,
    FieldSelector Fields,
    bool AllowBookmarks,
    bool Table,
    string? IncludeObject);

/// <summary>
/// One open watch. Events are filtered and serialized under the store lock (so ordering is the store's
/// order) and queued as ready-to-send JSON lines; the HTTP side drains <see cref="Lines"/>.
/// </summary>
public sealed class WatchSubscription
{
    private readonly Channel<byte[]> _lines = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _cut = new();

    internal WatchSubscription(WatchRequest request) => Request = request;

    public WatchRequest Request { get; }

    public ChannelReader<byte[]> Lines => _lines.Reader;

    /// <summary>Cancelled when the server ends the watch (CutWatches, CRD removal, shutdown, an ERROR event).</summary>
    public CancellationToken Ended => _cut.Token;

    /// <summary>When true the connection is aborted instead of ending the response cleanly.</summary>
    public bool AbortConnection { get; private set; }

    internal void Enqueue(string type, JsonObject obj) => _lines.Writer.TryWrite(Encode(type, obj));

    internal void EnqueueEvent(StoredEvent ev)
    {
        var nowMatches = Matches(ev.Object);
        var wasMatching = ev.Previous is not null && Matches(ev.Previous);
        switch (ev.Type)
        {
            case "ADDED" when nowMatches:
                Enqueue("ADDED", ev.Object);
                break;
            case "MODIFIED" when nowMatches && wasMatching:
                Enqueue("MODIFIED", ev.Object);
                break;
            case "MODIFIED" when nowMatches:
                Enqueue("ADDED", ev.Object);
                break;
            case "MODIFIED" when wasMatching:
                {
                    // Like the watch cache: the previous state, stamped with this event's resourceVersion.
                    var previous = Json.Clone(ev.Previous!);
                    Json.Metadata(previous)["resourceVersion"] = ev.ResourceVersion.ToString(CultureInfo.InvariantCulture);
                    Enqueue("DELETED", previous);
                    break;
                }

            case "DELETED" when nowMatches:
                Enqueue("DELETED", ev.Object);
                break;
        }
    }

    internal void EnqueueBookmark(long resourceVersion, bool initialEventsEnd)
    {
        var meta = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) };
        if (initialEventsEnd)
        {
            meta["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
        }

        var obj = new JsonObject { ["kind"] = Request.Type.Kind, ["apiVersion"] = Request.Type.ApiVersion, ["metadata"] = meta };
        _lines.Writer.TryWrite(Line("BOOKMARK", obj));
    }

    internal void EnqueueError(ApiError error)
    {
        _lines.Writer.TryWrite(Line("ERROR", error.ToStatus()));
        End(abort: false);
    }

    internal void End(bool abort)
    {
        AbortConnection |= abort;
        _lines.Writer.TryComplete();
        _cut.Cancel();
    }

    internal bool Matches(JsonObject obj)
    {
        var req = Request;
        if (req.Namespace is not null && Json.Namespace(obj) != req.Namespace)
        {
            return false;
        }

        return req.Labels.Matches(Json.Labels(obj)) && req.Fields.Matches(obj);
    }

    private byte[] Encode(string type, JsonObject stored)
    {
        var obj = Json.Clone(stored);
        obj["apiVersion"] = Request.Type.ApiVersion;
        JsonObject payload = Request.Table
            ? TablePrinter.Build(Request.Type, [obj], Json.ResourceVersion(obj) ?? "", Request.IncludeObject)
            : obj;
        return Line(type, payload);
    }

    private static byte[] Line(string type, JsonObject obj)
    {
        var ev = new JsonObject { ["type"] = type, ["object"] = obj };
        return Encoding.UTF8.GetBytes(ev.ToJsonString(Json.Compact) + "\n");
    }
}

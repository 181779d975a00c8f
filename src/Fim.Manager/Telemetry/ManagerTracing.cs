using System.Diagnostics;
using NATS.Client.Core;

namespace Fim.Manager.Telemetry;

/// <summary>
/// Continues the agent's trace: each event carries a W3C traceparent header; the manager's span is its child, and the
/// alert carries the manager's traceparent (or the agent's, when nothing records spans).
/// </summary>
public static class ManagerTracing
{
    public const string SourceName = "Fim.Manager";
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";

    public static readonly ActivitySource Source = new(SourceName);

    public static Activity? StartProcessing(NatsHeaders? headers, string subject)
    {
        if (!Source.HasListeners())
        {
            return null;
        }
        ActivityContext parent = default;
        if (headers is not null && headers.TryGetLastValue(TraceParent, out var traceParent))
        {
            headers.TryGetLastValue(TraceState, out var traceState);
            ActivityContext.TryParse(traceParent, traceState, isRemote: true, out parent);
        }
        var activity = Source.StartActivity("fim.event process", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.system", "nats");
        activity?.SetTag("messaging.destination.name", subject);
        return activity;
    }

    /// <summary>The traceparent for what this event causes: the current span's, else the one the event came with.</summary>
    public static string? TraceParentFor(Activity? activity, NatsHeaders? incoming) =>
        activity is { IdFormat: ActivityIdFormat.W3C } ? activity.Id
        : incoming is not null && incoming.TryGetLastValue(TraceParent, out var value) ? value
        : null;
}

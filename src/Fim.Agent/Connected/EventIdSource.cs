using System.Diagnostics;
using Fim.Contracts;

namespace Fim.Agent.Connected;

/// <summary>
/// Event ids = Nats-Msg-Id: &lt;agentId&gt;:&lt;bootId&gt;:&lt;seq&gt;, assigned when an event enters the outbox and stored
/// with it, so a publish retried after a restart carries the same id and JetStream stores it once.
/// </summary>
public sealed class EventIdSource(AgentIdentity identity)
{
    private long _sequence;

    public string Next() => Subjects.EventMessageId(identity.AgentId, identity.BootId, Interlocked.Increment(ref _sequence));
}

/// <summary>The agent's ActivitySource and the W3C trace context each event starts with.</summary>
public static class AgentTracing
{
    public static readonly ActivitySource Source = new("Fim.Agent");

    /// <summary>
    /// A traceparent for a newly detected change: the detection activity's when someone listens (OpenTelemetry),
    /// else fresh ids, so every event can be followed from agent to alert. Stored with the event in the outbox.
    /// </summary>
    public static string NewTraceParent()
    {
        using var activity = Source.StartActivity("fim.detect", ActivityKind.Internal);
        if (activity is { IdFormat: ActivityIdFormat.W3C, Id: { } id })
        {
            return id;
        }
        return $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01";
    }
}

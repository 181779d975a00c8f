using Fim.Testing;
using Fim.Contracts;
using Fim.Manager.Pipeline;
using Fim.Manager.Tests.Support;
using NATS.Client.Core;

namespace Fim.Manager.Tests;

/// <summary>The event pipeline against a real nats-server: alerts, dedupe, dead letters, enrichment, tracing.</summary>
public sealed class PipelineTests(NatsFixture nats) : IClassFixture<NatsFixture>, IAsyncLifetime
{
    private TestManager _manager = null!;

    private NatsTestClient Client => nats.Client;

    public async Task InitializeAsync() => _manager = await TestManager.StartAsync(nats.Server.Url);

    public async Task DisposeAsync() => await _manager.DisposeAsync();

    [Fact]
    public async Task Valid_event_becomes_exactly_one_alert_with_level_rule_and_compliance()
    {
        var agent = TestEvents.NewAgentId();
        var e = TestEvents.Event(agent, "/etc/passwd", "modified");

        await Client.PublishEventAsync(e);

        var alert = Assert.Single(await Eventually.CountAsync(() => Client.AlertsAsync(agent), 1, "alert stored"));
        Assert.Equal($"{e.EventId}/550", alert.AlertId);
        Assert.Equal("550", alert.Rule.Id);
        Assert.Equal(7, alert.Level);
        Assert.Equal("/etc/passwd", alert.Path);
        Assert.Equal(e.EventId, alert.EventId);
        Assert.Contains("pci_dss:11.5", alert.Compliance);
        Assert.Contains("nist_800_53:SI.7", alert.Compliance);
        var stored = Assert.Single(await Client.ReadAsync(Subjects.AlertsStream, Subjects.Alerts(7, agent)));
        Assert.Equal(Subjects.Alerts(7, agent), stored.Subject);
        await Eventually.TrueAsync(async () => (await Client.ManagersConsumerAsync()).NumAckPending == 0, "event acked");
        Assert.True(_manager.Metrics.Alerts.WithLabels("7").Value >= 1);
    }

    [Fact]
    public async Task Same_event_published_twice_with_different_message_ids_gives_one_alert()
    {
        var agent = TestEvents.NewAgentId();
        var e = TestEvents.Event(agent, "/etc/hosts", "deleted");
        var marker = TestEvents.Event(agent, "/etc/marker", "added");
        var (dedupedBefore, failuresBefore) = (_manager.Metrics.Deduplicated.Value, _manager.Metrics.TransientFailures.Value);

        // Two stream messages (the event dedupe does not catch them), one event id: the alert dedupe must.
        await Client.PublishEventAsync(e, msgId: "first-copy");
        await Client.PublishEventAsync(e, msgId: "second-copy");
        await Client.PublishEventAsync(marker);

        var alerts = await Eventually.CountAsync(() => Client.AlertsAsync(agent), 2, "alerts for both events");
        await Eventually.TrueAsync(async () => (await Client.ManagersConsumerAsync()) is { NumAckPending: 0, NumPending: 0 }, "all three acked");
        alerts = await Client.AlertsAsync(agent);
        Assert.Equal(2, alerts.Count);
        Assert.Single(alerts, a => a.EventId == e.EventId);
        Assert.Single(alerts, a => a.EventId == marker.EventId);
        // The second copy was settled as a success ("already stored"), not retried until the server gave up.
        Assert.Equal(dedupedBefore + 1, _manager.Metrics.Deduplicated.Value);
        Assert.Equal(failuresBefore, _manager.Metrics.TransientFailures.Value);
    }

    public static TheoryData<string, string, string> BadMessages => new()
    {
        { DeadLetter.MalformedJson, "{\"schemaVersion\":1,\"eventId\":", "" },
        { DeadLetter.MalformedJson, "null", "JSON null" },
        { DeadLetter.UnknownSchema, "{\"schemaVersion\":2,\"eventId\":\"x\"}", "schemaVersion 2" },
        { DeadLetter.InvalidEvent, "{\"schemaVersion\":1,\"eventId\":\"x\",\"agentId\":\"AGENT\"}", "agentId: must match" },
        { DeadLetter.InvalidEvent, "KIND", "kind: unknown change kind 'renamed'" },
        { DeadLetter.AgentMismatch, "MISMATCH", "published on fim.events." },
        { DeadLetter.Oversized, "HUGE", "more than the 262144 allowed" },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task Bad_message_goes_to_dead_letter_with_reason_is_counted_and_the_next_event_is_processed(string reason, string payload, string detail)
    {
        var agent = TestEvents.NewAgentId();
        var subject = Subjects.Events(agent);
        var bytes = payload switch
        {
            "KIND" => ContractJson.ToUtf8(With(TestEvents.Event(agent), e => e.Kind = "renamed")),
            "MISMATCH" => ContractJson.ToUtf8(TestEvents.Event(TestEvents.NewAgentId("other"))),
            "HUGE" => ContractJson.ToUtf8(With(TestEvents.Event(agent), e => e.Diff = new string('x', 300 * 1024))),
            _ => System.Text.Encoding.UTF8.GetBytes(payload),
        };
        var before = _manager.Metrics.DeadLetters.WithLabels(reason).Value;
        var badAck = await Client.PublishRawAsync(subject, bytes, msgId: Guid.NewGuid().ToString(),
            headers: new NatsHeaders { ["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" });
        var good = TestEvents.Event(agent, "/etc/after-the-bad-one", "added");
        await Client.PublishEventAsync(good);

        var alert = Assert.Single(await Eventually.CountAsync(() => Client.AlertsAsync(agent), 1, "the good event's alert"));
        Assert.Equal(good.EventId, alert.EventId);
        var copies = await Eventually.CountAsync(
            async () => (IReadOnlyList<ReadMessage>)[.. (await Client.DeadLettersAsync(reason)).Where(m => m.Header(DeadLetter.SequenceHeader) == badAck.Seq.ToString())],
            1, $"dead letter {reason}");
        var copy = Assert.Single(copies);
        Assert.Equal(reason, copy.Header(DeadLetter.ReasonHeader));
        Assert.Equal(subject, copy.Header(DeadLetter.SubjectHeader));
        Assert.Contains(detail, copy.Header(DeadLetter.DetailHeader));
        Assert.Equal(bytes, copy.Data);
        await Eventually.TrueAsync(() => _manager.Metrics.DeadLetters.WithLabels(reason).Value >= before + 1, "dead letter counted");
        // Terminated, not left to be redelivered.
        await Eventually.TrueAsync(async () => (await Client.ManagersConsumerAsync()) is { NumAckPending: 0, NumPending: 0 }, "bad event settled");
    }

    [Fact]
    public async Task Known_agent_labels_enrich_the_alert_and_unknown_agent_is_tagged_and_counted()
    {
        var known = TestEvents.NewAgentId("known");
        await Client.PutHeartbeatAsync(known, new Dictionary<string, string> { ["env"] = "prod", ["team"] = "payments" });
        var unknown = TestEvents.NewAgentId("stranger");
        var unknownBefore = _manager.Metrics.UnknownAgentEvents.Value;
        await Eventually.TrueAsync(
            () => _manager.Services.GetService(typeof(Agents.AgentDirectory)) is Agents.AgentDirectory d && d.TryGet(known, out _),
            "heartbeat seen by the manager");

        await Client.PublishEventAsync(TestEvents.Event(known));
        await Client.PublishEventAsync(TestEvents.Event(unknown));

        var knownAlert = Assert.Single(await Eventually.CountAsync(() => Client.AlertsAsync(known), 1, "known agent's alert"));
        Assert.Equal("prod", knownAlert.Labels!["env"]);
        Assert.DoesNotContain(EventJudge.UnknownAgentTag, knownAlert.Tags);
        var unknownAlert = Assert.Single(await Eventually.CountAsync(() => Client.AlertsAsync(unknown), 1, "unknown agent's alert"));
        Assert.Contains(EventJudge.UnknownAgentTag, unknownAlert.Tags);
        Assert.Null(unknownAlert.Labels);
        Assert.True(_manager.Metrics.UnknownAgentEvents.Value >= unknownBefore + 1);
    }

    [Fact]
    public async Task Alert_continues_the_trace_of_the_event()
    {
        var agent = TestEvents.NewAgentId();
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        var headers = new NatsHeaders { ["traceparent"] = $"00-{traceId}-00f067aa0ba902b7-01" };

        await Client.PublishEventAsync(TestEvents.Event(agent), headers: headers);

        var stored = Assert.Single(await Eventually.CountAsync(
            () => Client.ReadAsync(Subjects.AlertsStream, Subjects.AlertsOf(agent)), 1, "alert stored"));
        var traceParent = stored.Header("traceparent");
        Assert.NotNull(traceParent);
        Assert.Equal(traceId, traceParent.Split('-')[1]);
    }

    [Fact]
    public async Task With_a_trace_listener_the_manager_span_is_a_child_of_the_agent_span_and_the_alert_carries_it()
    {
        var agent = TestEvents.NewAgentId();
        const string traceId = "5bf92f3577b34da6a3ce929d0e0e4736";
        const string agentSpan = "10f067aa0ba902b7";
        var spans = new System.Collections.Concurrent.ConcurrentBag<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.ManagerTracing.SourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) =>
                System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        await Client.PublishEventAsync(TestEvents.Event(agent), headers: new NatsHeaders { ["traceparent"] = $"00-{traceId}-{agentSpan}-01" });

        var stored = Assert.Single(await Eventually.CountAsync(() => Client.ReadAsync(Subjects.AlertsStream, Subjects.AlertsOf(agent)), 1, "alert"));
        var parts = stored.Header("traceparent")!.Split('-');
        Assert.Equal(traceId, parts[1]);
        Assert.NotEqual(agentSpan, parts[2]);
        await Eventually.TrueAsync(() => spans.Any(a => a.TraceId.ToHexString() == traceId), "manager span recorded");
        var span = spans.Single(a => a.TraceId.ToHexString() == traceId);
        Assert.Equal(agentSpan, span.ParentSpanId.ToHexString());
        Assert.Equal(parts[2], span.SpanId.ToHexString());
        Assert.Equal(System.Diagnostics.ActivityKind.Consumer, span.Kind);
    }

    [Fact]
    public async Task Refused_alert_publish_naks_with_backoff_and_the_event_is_alerted_once_the_stream_accepts_it()
    {
        var agent = TestEvents.NewAgentId();
        var failuresBefore = _manager.Metrics.TransientFailures.Value;
        var alerts = (await Client.Js.GetStreamAsync(Subjects.AlertsStream)).Info.Config;
        // The stream refuses every alert (too large), as a full or misconfigured stream would.
        await Client.Js.UpdateStreamAsync(alerts with { MaxMsgSize = 64 });
        try
        {
            await Client.PublishEventAsync(TestEvents.Event(agent, "/etc/sudoers", "modified"));
            await Eventually.TrueAsync(() => _manager.Metrics.TransientFailures.Value >= failuresBefore + 2, "refused publish nak'ed and retried");
            Assert.Empty(await Client.AlertsAsync(agent));
        }
        finally
        {
            await Client.Js.UpdateStreamAsync(alerts);
        }
        var alert = Assert.Single(await Eventually.CountAsync(() => Client.AlertsAsync(agent), 1, "alert once the stream accepts it"));
        Assert.Equal("/etc/sudoers", alert.Path);
        Assert.True(_manager.Metrics.Redeliveries.Value >= 2);
    }

    private static FileEvent With(FileEvent e, Action<FileEvent> change)
    {
        change(e);
        return e;
    }
}

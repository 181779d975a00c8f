using Fim.Testing;
using System.Net;
using System.Text.Json;
using Fim.Api.V1;
using Fim.Contracts;
using FileEvent = Fim.Contracts.FileEvent;
using Fim.Manager.Tests.Support;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using NATS.Client.Core;

namespace Fim.Manager.Tests;

/// <summary>A manager with a few agents, events and alerts, shared by the API tests (which only read, or use their own agent).</summary>
public sealed class ApiFixture : IAsyncLifetime
{
    public NatsFixture Nats { get; } = new();
    public TestManager Manager { get; private set; } = null!;
    public string AgentA { get; } = TestEvents.NewAgentId("api-a");
    public string AgentB { get; } = TestEvents.NewAgentId("api-b");
    public DateTimeOffset SeededAt { get; private set; }
    public FileEvent PasswdModified { get; private set; } = null!;
    public FileEvent PasswdAttributes { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Nats.InitializeAsync();
        Manager = await TestManager.StartAsync(Nats.Server.Url);
        var client = Nats.Client;
        await client.PutHeartbeatAsync(AgentA, new Dictionary<string, string> { ["env"] = "prod", ["zone"] = "eu-west-1a" }, "1.2.3");
        await client.PutHeartbeatAsync(AgentB);
        SeededAt = DateTimeOffset.UtcNow.AddSeconds(-1);
        PasswdModified = TestEvents.Event(AgentA, "/etc/passwd", "modified");
        PasswdAttributes = TestEvents.Event(AgentA, "/etc/passwd", "attributes", ["mode"]);
        await client.PublishEventAsync(PasswdModified); // 550, level 7
        await client.PublishEventAsync(TestEvents.Event(AgentA, "/etc/shadow", "added")); // 554, level 5
        await client.PublishEventAsync(PasswdAttributes); // 556, level 9
        await client.PublishEventAsync(TestEvents.Event(AgentB, "/etc/hosts", "deleted")); // 553, level 7
        await Eventually.CountAsync(() => client.ReadAsync(Subjects.AlertsStream, Subjects.AllAlerts), 4, "seeded alerts");
        await Manager.AwaitStoredAsync(4);
        await Eventually.TrueAsync(() => Manager.Services.GetService(typeof(Agents.AgentDirectory)) is Agents.AgentDirectory d
            && d.TryGet(AgentA, out _) && d.TryGet(AgentB, out _), "heartbeats seen");
    }

    public async Task DisposeAsync()
    {
        await Manager.DisposeAsync();
        await Nats.DisposeAsync();
    }
}

public sealed class ApiTests(ApiFixture f) : IClassFixture<ApiFixture>
{
    private FimManager.FimManagerClient Grpc => f.Manager.Client;
    private HttpClient Http => f.Manager.Http;

    [Fact]
    public async Task Grpc_lists_and_gets_agents_from_their_heartbeats()
    {
        var list = await Grpc.ListAgentsAsync(new ListAgentsRequest());
        Assert.Contains(list.Agents, a => a.AgentId == f.AgentA);
        Assert.Contains(list.Agents, a => a.AgentId == f.AgentB);

        var a = await Grpc.GetAgentAsync(new GetAgentRequest { AgentId = f.AgentA });
        Assert.Equal("1.2.3", a.Version);
        Assert.Equal(f.AgentA + ".node", a.Host);
        Assert.Equal("prod", a.Labels["env"]);
        Assert.True(a.LastSeen.ToDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Contains("\"zone\"", a.HeartbeatJson);

        var missing = await Assert.ThrowsAsync<RpcException>(() => Grpc.GetAgentAsync(new GetAgentRequest { AgentId = "nobody" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.StartsWith("agent_id:", missing.Status.Detail);
    }

    [Fact]
    public async Task Grpc_lists_alerts_filtered_by_agent_level_and_time()
    {
        var all = await Grpc.ListAlertsAsync(new ListAlertsRequest());
        Assert.Equal(4, all.Alerts.Count);
        Assert.False(all.Truncated);

        var a = await Grpc.ListAlertsAsync(new ListAlertsRequest { AgentId = f.AgentA });
        // Alerts are stored in the order their publishes complete, which parallel workers do not keep: compare as sets.
        Assert.Equal(["550", "554", "556"], a.Alerts.Select(x => x.RuleId).Order());
        Assert.All(a.Alerts, x => Assert.Equal(f.AgentA, x.AgentId));
        var first = a.Alerts.Single(x => x.RuleId == "550");
        Assert.Equal($"{f.PasswdModified.EventId}/550", first.AlertId);
        Assert.Equal(7, first.Level);
        Assert.Contains("pci_dss:11.5", first.Compliance);
        Assert.True(first.StreamSequence > 0);
        Assert.Equal(f.PasswdModified.EventId, JsonDocument.Parse(first.Json).RootElement.GetProperty("eventId").GetString());

        var high = await Grpc.ListAlertsAsync(new ListAlertsRequest { AgentId = f.AgentA, MinLevel = 7 });
        Assert.Equal(["550", "556"], high.Alerts.Select(x => x.RuleId).Order());

        var limited = await Grpc.ListAlertsAsync(new ListAlertsRequest { AgentId = f.AgentA, Limit = 1 });
        Assert.Single(limited.Alerts);
        Assert.True(limited.Truncated);

        var future = await Grpc.ListAlertsAsync(new ListAlertsRequest
        {
            Since = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(1)),
            Until = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(2))
        });
        Assert.Empty(future.Alerts);
        var past = await Grpc.ListAlertsAsync(new ListAlertsRequest { Until = Timestamp.FromDateTimeOffset(f.SeededAt.AddSeconds(-5)) });
        Assert.Empty(past.Alerts);
        var window = await Grpc.ListAlertsAsync(new ListAlertsRequest
        {
            Since = Timestamp.FromDateTimeOffset(f.SeededAt.AddMinutes(-1)),
            Until = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(1))
        });
        Assert.Equal(4, window.Alerts.Count);
    }

    [Fact]
    public async Task Grpc_file_history_returns_the_events_of_one_path_on_one_agent()
    {
        var history = await Grpc.GetFileHistoryAsync(new GetFileHistoryRequest { AgentId = f.AgentA, Path = "/etc/passwd" });
        Assert.Equal([f.PasswdModified.EventId, f.PasswdAttributes.EventId], history.Events.Select(e => e.EventId));
        Assert.Equal(["modified", "attributes"], history.Events.Select(e => e.Kind));
        Assert.Equal(2UL, history.Scanned);
        Assert.True(history.Events[0].ObservedAt.ToDateTimeOffset() <= history.Events[1].ObservedAt.ToDateTimeOffset());
        Assert.All(history.Events, e => Assert.True(e.StreamSequence > 0));

        Assert.Empty((await Grpc.GetFileHistoryAsync(new GetFileHistoryRequest { AgentId = f.AgentB, Path = "/etc/passwd" })).Events);
        Assert.Empty((await Grpc.GetFileHistoryAsync(new GetFileHistoryRequest { AgentId = "no-such-agent", Path = "/etc/passwd" })).Events);
    }

    [Fact]
    public async Task Grpc_trigger_scan_asks_the_agent_and_is_unavailable_without_one()
    {
        var agent = TestEvents.NewAgentId("scan");
        var unavailable = await Assert.ThrowsAsync<RpcException>(() => Grpc.TriggerScanAsync(new TriggerScanRequest { AgentId = agent }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, unavailable.StatusCode);
        Assert.Contains($"fim.agent.{agent}.cmd", unavailable.Status.Detail);

        await using var responder = await FakeAgent.StartAsync(f.Nats.Client.Connection, agent);
        var reply = await Grpc.TriggerScanAsync(new TriggerScanRequest { AgentId = agent });
        Assert.True(reply.Ok);
        Assert.Equal(["prod/web"], JsonSerializer.Deserialize(reply.ResponseJson, ContractJson.Default.AgentReply)!.Started);
        Assert.Equal(AgentCommand.Scan, JsonSerializer.Deserialize(Assert.Single(responder.Requests), ContractJson.Default.AgentCommand));
    }

    public static TheoryData<string, string> InvalidGrpcCalls => new()
    {
        { "alerts agent", "agent_id: must match [a-z0-9_-]+" },
        { "alerts limit 0", "limit: must be 1..1000" },
        { "alerts limit 1001", "limit: must be 1..1000" },
        { "alerts level 16", "min_level: must be 0..15" },
        { "alerts since after until", "since: must be before until" },
        { "history no path", "path: is required" },
        { "history no agent", "agent_id: is required" },
        { "agent bad id", "agent_id: must match [a-z0-9_-]+" },
        { "scan bad id", "agent_id: must match [a-z0-9_-]+" },
    };

    [Theory]
    [MemberData(nameof(InvalidGrpcCalls))]
    public async Task Grpc_invalid_arguments_are_invalid_argument_naming_the_field(string call, string message)
    {
        var now = DateTimeOffset.UtcNow;
        Task task = call switch
        {
            "alerts agent" => Grpc.ListAlertsAsync(new ListAlertsRequest { AgentId = "Agent A" }).ResponseAsync,
            "alerts limit 0" => Grpc.ListAlertsAsync(new ListAlertsRequest { Limit = 0 }).ResponseAsync,
            "alerts limit 1001" => Grpc.ListAlertsAsync(new ListAlertsRequest { Limit = 1001 }).ResponseAsync,
            "alerts level 16" => Grpc.ListAlertsAsync(new ListAlertsRequest { MinLevel = 16 }).ResponseAsync,
            "alerts since after until" => Grpc.ListAlertsAsync(new ListAlertsRequest
            {
                Since = Timestamp.FromDateTimeOffset(now),
                Until = Timestamp.FromDateTimeOffset(now.AddHours(-1)),
            }).ResponseAsync,
            "history no path" => Grpc.GetFileHistoryAsync(new GetFileHistoryRequest { AgentId = f.AgentA }).ResponseAsync,
            "history no agent" => Grpc.GetFileHistoryAsync(new GetFileHistoryRequest { Path = "/etc" }).ResponseAsync,
            "agent bad id" => Grpc.GetAgentAsync(new GetAgentRequest { AgentId = "../etc" }).ResponseAsync,
            "scan bad id" => Grpc.TriggerScanAsync(new TriggerScanRequest { AgentId = "a.b" }).ResponseAsync,
            _ => throw new ArgumentOutOfRangeException(nameof(call)),
        };
        var error = await Assert.ThrowsAsync<RpcException>(() => task);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith(message, error.Status.Detail);
    }

    [Fact]
    public async Task Rest_mirrors_agents_alerts_history_and_scan()
    {
        using var agents = JsonDocument.Parse(await Http.GetStringAsync("/api/v1/agents"));
        Assert.Contains(agents.RootElement.GetProperty("agents").EnumerateArray(), a => a.GetProperty("agentId").GetString() == f.AgentA);

        using var agent = JsonDocument.Parse(await Http.GetStringAsync($"/api/v1/agents/{f.AgentA}"));
        Assert.Equal("prod", agent.RootElement.GetProperty("labels").GetProperty("env").GetString());

        var since = Uri.EscapeDataString(f.SeededAt.AddMinutes(-1).ToString("yyyy-MM-ddTHH:mm:ssZ"));
        using var alerts = JsonDocument.Parse(await Http.GetStringAsync($"/api/v1/alerts?agentId={f.AgentA}&minLevel=7&since={since}"));
        var ruleIds = alerts.RootElement.GetProperty("alerts").EnumerateArray().Select(a => a.GetProperty("ruleId").GetString()).Order().ToList();
        Assert.Equal(["550", "556"], ruleIds);

        using var history = JsonDocument.Parse(await Http.GetStringAsync($"/api/v1/agents/{f.AgentA}/history?path=%2Fetc%2Fpasswd"));
        Assert.Equal(2, history.RootElement.GetProperty("events").GetArrayLength());

        var scanAgent = TestEvents.NewAgentId("rest-scan");
        var noAgent = await Http.PostAsync($"/api/v1/agents/{scanAgent}/scan", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, noAgent.StatusCode);
        await using var responder = await FakeAgent.StartAsync(f.Nats.Client.Connection, scanAgent);
        var scan = await Http.PostAsync($"/api/v1/agents/{scanAgent}/scan", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, scan.StatusCode);
        using var scanBody = JsonDocument.Parse(await scan.Content.ReadAsStringAsync());
        Assert.True(scanBody.RootElement.GetProperty("ok").GetBoolean());
    }

    [Theory]
    [InlineData("/api/v1/alerts?limit=5000", "limit: must be 1..1000")]
    [InlineData("/api/v1/alerts?agentId=BAD%20ID", "agent_id: must match")]
    [InlineData("/api/v1/alerts?minLevel=99", "min_level: must be 0..15")]
    [InlineData("/api/v1/alerts?since=2030-01-02T00:00:00Z&until=2030-01-01T00:00:00Z", "since: must be before until")]
    [InlineData("/api/v1/agents/x/history", "path: is required")]
    [InlineData("/api/v1/agents/Not_Valid/history?path=/etc", "agent_id: must match")]
    public async Task Rest_invalid_arguments_are_400_naming_the_field(string url, string message)
    {
        var response = await Http.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith(message, body.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Metrics_endpoint_exposes_the_pipeline_counters_and_the_pending_gauge()
    {
        await Eventually.TrueAsync(() => f.Manager.Metrics.ConsumerPending.Value == 0 && f.Manager.Metrics.EventsConsumed.Value >= 4, "counts settle");
        var text = await Http.GetStringAsync("/metrics");

        Assert.Matches(@"(?m)^fim_events_consumed_total [4-9]", text);
        Assert.Contains("fim_alerts_total{level=\"7\"} 2", text);
        Assert.Contains("fim_alerts_total{level=\"9\"} 1", text);
        Assert.Contains("fim_event_processing_seconds_bucket{le=", text);
        Assert.Contains("fim_consumer_pending 0", text);
        Assert.Contains("fim_event_redeliveries_total", text);
        Assert.Contains("fim_dead_letters_total", text);
        var heartbeat = System.Text.RegularExpressions.Regex.Match(text, $"(?m)^fim_agent_last_heartbeat_timestamp_seconds{{agent=\"{f.AgentA}\"}} (\\S+)$");
        Assert.True(heartbeat.Success, "no heartbeat gauge for " + f.AgentA);
        var age = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - double.Parse(heartbeat.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(age, -5, 600);
    }
}

/// <summary>Stands in for an agent's command responder on fim.agent.&lt;id&gt;.cmd.</summary>
public sealed class FakeAgent : IAsyncDisposable
{
    private readonly INatsSub<byte[]> _sub;
    private readonly Task _loop;

    private FakeAgent(INatsSub<byte[]> sub)
    {
        _sub = sub;
        _loop = Task.Run(async () =>
        {
            await foreach (var msg in _sub.Msgs.ReadAllAsync())
            {
                lock (Requests)
                {
                    Requests.Add(System.Text.Encoding.UTF8.GetString(msg.Data ?? []));
                }
                await msg.ReplyAsync(ContractJson.ToUtf8(new AgentReply { Ok = true, Started = ["prod/web"], Time = DateTimeOffset.UtcNow }), serializer: NatsRawSerializer<byte[]>.Default);
            }
        });
    }

    public List<string> Requests { get; } = [];

    public static async Task<FakeAgent> StartAsync(NatsConnection connection, string agentId)
    {
        var sub = await connection.SubscribeCoreAsync(Subjects.AgentCommand(agentId), serializer: NatsRawSerializer<byte[]>.Default);
        await connection.PingAsync(); // the subscription is registered on the server before anyone asks
        return new FakeAgent(sub);
    }

    public async ValueTask DisposeAsync()
    {
        await _sub.UnsubscribeAsync();
        await _loop;
        await _sub.DisposeAsync();
    }
}

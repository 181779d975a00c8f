extern alias ctl;

using System.Net;
using System.Text.Json;
using Fim.Api.V1;
using Fim.Contracts;
using Fim.Manager.Tests.Support;
using Fim.Testing;
using Grpc.Core;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;
using Cli = ctl::Fim.Ctl.Cli;

namespace Fim.Manager.Tests;

/// <summary>
/// Agent lifecycle on a real nats-server and real managers: heartbeats stop, the agent turns disconnected, is pruned
/// (through REST, fimctl or the automatic prune of two managers at once), keeps its alerts, and comes back active.
/// </summary>
public sealed class FleetLifecycleTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    private static readonly Dictionary<string, string?> ShortDisconnect = new() { ["Fim:Fleet:DisconnectedAfter"] = "00:00:02" };

    /// <summary>Heartbeats for <paramref name="agentId"/> every 300 ms until disposed: an agent that stays active.</summary>
    private IAsyncDisposable KeepAlive(string agentId, IReadOnlyDictionary<string, string>? labels = null)
    {
        var stop = new CancellationTokenSource();
        var loop = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await nats.Client.PutHeartbeatAsync(agentId, labels);
                await Task.Delay(300, CancellationToken.None);
            }
        });
        return new Stopper(stop, loop);
    }

    private sealed class Stopper(CancellationTokenSource stop, Task loop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await loop;
            stop.Dispose();
        }
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string url)
    {
        var response = await http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static IEnumerable<(string Id, string Status)> Agents(JsonElement list) =>
        list.TryGetProperty("agents", out var agents)
            ? agents.EnumerateArray().Select(a => (a.GetProperty("agentId").GetString()!, a.GetProperty("status").GetString()!))
            : [];

    [Fact]
    public async Task An_agent_without_heartbeats_turns_disconnected_is_pruned_through_REST_keeps_its_alerts_and_comes_back_active()
    {
        await using var m = await TestManager.StartAsync(nats.Server.Url, ShortDisconnect);
        var (gone, alive) = (TestEvents.NewAgentId("gone"), TestEvents.NewAgentId("alive"));
        await nats.Client.PutHeartbeatAsync(gone);
        await using var keep = KeepAlive(alive);
        await nats.Client.PublishEventAsync(TestEvents.Event(gone, "/etc/passwd"));
        await Eventually.CountAsync(() => nats.Client.AlertsAsync(gone), 1, "the alert of the agent that goes away");

        await Eventually.TrueAsync(async () => Agents(await GetJsonAsync(m.Http, "/api/v1/agents")).Contains((alive, "active"))
            && Agents(await GetJsonAsync(m.Http, "/api/v1/agents")).Contains((gone, "active")) || Agents(await GetJsonAsync(m.Http, "/api/v1/agents")).Contains((gone, "disconnected")),
            "both agents listed");
        await Eventually.TrueAsync(async () => Agents(await GetJsonAsync(m.Http, "/api/v1/agents?status=disconnected")).Select(a => a.Id).Contains(gone), "gone disconnected");
        Assert.DoesNotContain(alive, Agents(await GetJsonAsync(m.Http, "/api/v1/agents?status=disconnected")).Select(a => a.Id));
        Assert.Contains((alive, "active"), Agents(await GetJsonAsync(m.Http, "/api/v1/agents?status=active")));

        // An active agent named alone is refused, with a message.
        var refused = await m.Http.DeleteAsync($"/api/v1/agents?olderThan=0s&agentId={alive}");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("is active", await refused.Content.ReadAsStringAsync());

        var pruned = await m.Http.DeleteAsync("/api/v1/agents?status=disconnected&olderThan=1s");
        var prunedBody = await pruned.Content.ReadAsStringAsync();
        Assert.True(pruned.IsSuccessStatusCode, prunedBody);
        var removed = JsonDocument.Parse(prunedBody).RootElement.GetProperty("removed").EnumerateArray().ToList();
        Assert.Contains(removed, r => r.GetProperty("agentId").GetString() == gone && r.GetProperty("removedBy").GetString() == OidcProvider.Admin);
        Assert.DoesNotContain(removed, r => r.GetProperty("agentId").GetString() == alive);

        Assert.DoesNotContain(gone, Agents(await GetJsonAsync(m.Http, "/api/v1/agents")).Select(a => a.Id));
        Assert.Contains((gone, "removed"), Agents(await GetJsonAsync(m.Http, "/api/v1/agents?status=removed")));
        var one = await GetJsonAsync(m.Http, $"/api/v1/agents/{gone}");
        Assert.Equal("removed", one.GetProperty("status").GetString());
        Assert.Equal(OidcProvider.Admin, one.GetProperty("removedBy").GetString());
        Assert.Equal($"{gone}.node", one.GetProperty("host").GetString());
        // The heartbeat key is gone, the alerts are not.
        var kv = new NatsKVContext(nats.Client.Js);
        Assert.False((await (await kv.GetStoreAsync(Subjects.AgentsBucket)).TryGetEntryAsync<byte[]>(gone)).Success);
        Assert.Single(await nats.Client.AlertsAsync(gone));

        // It comes back: active again, and no longer listed as removed.
        await nats.Client.PutHeartbeatAsync(gone);
        await Eventually.TrueAsync(async () => Agents(await GetJsonAsync(m.Http, "/api/v1/agents")).Contains((gone, "active")), "gone back and active");
        Assert.DoesNotContain(gone, Agents(await GetJsonAsync(m.Http, "/api/v1/agents?status=removed")).Select(a => a.Id));
    }

    [Fact]
    public async Task Bad_prune_and_query_arguments_are_refused_naming_the_parameter()
    {
        await using var m = await TestManager.StartAsync(nats.Server.Url, ShortDisconnect);
        foreach (var (query, field) in new[]
        {
            ("status=disconnected", "older_than: is required"),
            ("olderThan=7x", "older_than: '7x' is not a duration"),
            ("olderThan=-7d", "older_than: must not be negative"),
            ("olderThan=abc", "older_than:"),
            ("status=active&olderThan=7d", "status: active agents are never removed"),
            ("status=removed&olderThan=7d", "status: removed agents are already removed"),
            ("status=sleeping&olderThan=7d", "status: 'sleeping' is not a status that can be pruned"),
            ("olderThan=7d&agentId=Bad!", "agent_id:"),
        })
        {
            var response = await m.Http.DeleteAsync($"/api/v1/agents?{query}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"DELETE ?{query}: {response.StatusCode} {body}");
            Assert.Contains(field, body);
        }
        var list = await m.Http.GetAsync("/api/v1/agents?status=sleeping");
        Assert.Equal(HttpStatusCode.BadRequest, list.StatusCode);
        Assert.Contains("status: 'sleeping' is not one of active, disconnected, removed, all", await list.Content.ReadAsStringAsync());

        var fleet = new FimFleet.FimFleetClient(m.Channel);
        foreach (var (request, field) in new[]
        {
            (new QueryFleetRequest { Path = "etc/passwd" }, "path: must be absolute"),
            (new QueryFleetRequest { Path = "" }, "path: is required"),
            (new QueryFleetRequest { Path = "/etc/\0passwd" }, "path: must not contain a NUL character"),
            (new QueryFleetRequest { Path = "/etc/../root/.ssh/id_rsa" }, "path: must not contain empty, '.' or '..' components"),
            (new QueryFleetRequest { Path = "/etc//passwd" }, "path: must not contain empty"),
            (new QueryFleetRequest { Path = "/etc/passwd", Timeout = "10m" }, "timeout: must be at most 60s"),
            (new QueryFleetRequest { Path = "/etc/passwd", Timeout = "-5s" }, "timeout: must not be negative"),
            (new QueryFleetRequest { Path = "/etc/passwd", Timeout = "5 seconds" }, "timeout: '5 seconds' is not a duration"),
            (new QueryFleetRequest { Path = "/etc/passwd", Selector = "team in (a,b" }, "selector: unbalanced parentheses"),
            (new QueryFleetRequest { Path = "/etc/passwd", Selector = "=payments" }, "selector: '=payments': a label key is missing"),
            (new QueryFleetRequest { Path = "/etc/passwd", Selector = "team=pay ments" }, "selector: 'team=pay ments': label value 'pay ments'"),
            (new QueryFleetRequest { Path = "/etc/passwd", Selector = "team,,env" }, "selector: empty requirement"),
            (new QueryFleetRequest { Path = "/etc/passwd", Selector = "team within (a)" }, "selector: 'team within (a)': expected"),
        })
        {
            using var call = fleet.QueryFleet(request);
            var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.True(e.StatusCode == StatusCode.InvalidArgument, $"{request}: {e.Status}");
            Assert.StartsWith(field, e.Status.Detail);
        }
        var rest = await m.Http.GetAsync("/api/v1/fleet/query?path=relative&timeout=1s");
        Assert.Equal(HttpStatusCode.BadRequest, rest.StatusCode);
        Assert.Contains("path: must be absolute", await rest.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Fimctl_agents_prune_removes_disconnected_agents_refuses_active_ones_and_lists_the_removed()
    {
        await using var m = await TestManager.StartAsync(nats.Server.Url, ShortDisconnect);
        var (stale, alive) = (TestEvents.NewAgentId("stale"), TestEvents.NewAgentId("busy"));
        await nats.Client.PutHeartbeatAsync(stale);
        await using var keep = KeepAlive(alive);
        var env = new Dictionary<string, string> { ["FIM_TOKEN"] = await m.Oidc.TokenAsync(OidcProvider.Admin) };
        var server = $"http://127.0.0.1:{m.GrpcPort}";
        async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
        {
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            var code = await new Cli(stdout, stderr, name => env.GetValueOrDefault(name)).RunAsync([.. args, "--server", server]);
            return (code, stdout.ToString(), stderr.ToString());
        }

        await Eventually.TrueAsync(async () => (await RunAsync("agents", "--status", "disconnected")).Out.Contains(stale + " "), "stale disconnected");
        var (code, _, err) = await RunAsync("agents", "prune", "--older-than", "-3d");
        Assert.Equal(Cli.InvalidArgument, code);
        Assert.Contains("older_than: must not be negative", err);
        (code, _, err) = await RunAsync("agents", "prune", "--status", "active", "--older-than", "1d");
        Assert.Equal(Cli.InvalidArgument, code);
        Assert.Contains("status: active agents are never removed", err);
        (code, _, err) = await RunAsync("agents", "prune", "--agent", alive, "--older-than", "0s");
        Assert.NotEqual(Cli.Ok, code);
        Assert.Contains($"agent '{alive}' is active", err);

        (code, var output, err) = await RunAsync("agents", "prune", "--older-than", "1s");
        Assert.True(code == Cli.Ok, err);
        Assert.Contains($"removed {stale} ", output);
        Assert.DoesNotContain(alive, output);
        (code, output, _) = await RunAsync("agents", "--status", "removed");
        Assert.Equal(Cli.Ok, code);
        Assert.Contains(output.Split('\n'), l => l.StartsWith(stale + " ", StringComparison.Ordinal) && l.Contains(" removed "));
        (_, output, _) = await RunAsync("agent", stale);
        Assert.Contains($"status:    removed at", output);
        Assert.Contains($"by {OidcProvider.Admin}", output);
    }

    [Fact]
    public async Task Two_managers_prune_automatically_each_disconnected_agent_exactly_once_and_never_an_active_one()
    {
        var settings = new Dictionary<string, string?>(ShortDisconnect)
        {
            ["Fim:Fleet:PruneAfter"] = "00:00:03",
            ["Fim:Fleet:PruneInterval"] = "00:00:00.100",
        };
        await using var m1 = await TestManager.StartAsync(nats.Server.Url, settings);
        await using var m2 = await TestManager.StartAsync(nats.Server.Url, settings);
        var stale = Enumerable.Range(0, 5).Select(_ => TestEvents.NewAgentId("auto")).ToList();
        var alive = TestEvents.NewAgentId("steady");
        await using var keep = KeepAlive(alive);
        foreach (var id in stale)
        {
            await nats.Client.PutHeartbeatAsync(id);
        }
        var started = DateTimeOffset.UtcNow;
        await Eventually.TrueAsync(async () =>
        {
            var removed = Agents(await GetJsonAsync(m1.Http, "/api/v1/agents?status=removed")).Select(a => a.Id).ToHashSet();
            return stale.All(removed.Contains);
        }, "every stale agent removed automatically", TimeSpan.FromSeconds(60));
        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromSeconds(3), "removed before PruneAfter");

        var kv = new NatsKVContext(nats.Client.Js);
        var removals = await kv.GetStoreAsync(Subjects.AgentRemovalsBucket);
        foreach (var id in stale)
        {
            var history = new List<NatsKVEntry<byte[]>>();
            await foreach (var entry in removals.HistoryAsync<byte[]>(id, serializer: NatsRawSerializer<byte[]>.Default))
            {
                history.Add(entry);
            }
            // One removal written, never a second (or a rolled-back one) by the other manager.
            var put = Assert.Single(history);
            var removal = JsonSerializer.Deserialize(put.Value, ContractJson.Default.AgentRemoval)!;
            Assert.Equal(AgentRemoval.ByAutoPrune, removal.Reason);
            Assert.StartsWith("manager:", removal.RemovedBy);
        }
        // Both managers list them as removed; the agent that kept reporting stays active on both.
        foreach (var m in new[] { m1, m2 })
        {
            await Eventually.TrueAsync(async () =>
            {
                var all = Agents(await GetJsonAsync(m.Http, "/api/v1/agents?status=all")).ToList();
                return stale.All(id => all.Contains((id, "removed"))) && all.Contains((alive, "active"));
            }, "both managers agree");
        }
    }
}

using System.Diagnostics;
using System.Text.Json;
using Fim.Testing;

namespace Fim.EndToEnd.Tests;

/// <summary>
/// Agent -> NATS JetStream -> managers -> alerts, all real processes. Fault tests count events in and alerts out:
/// equal, each event once, each alert once.
/// </summary>
public sealed class PipelineTests
{
    [Fact]
    public async Task A_file_change_becomes_an_alert_retrievable_through_grpc_rest_and_fimctl()
    {
        await using var p = await Pipeline.StartAsync(managers: 2);
        File.WriteAllText(Path.Combine(p.Tree, "app.conf"), "port=80\n");
        await p.StartAgentAsync();

        var target = Path.Combine(p.Tree, "app.conf");
        var written = Stopwatch.StartNew();
        File.WriteAllText(target, "port=8080\n");

        var rest = await AwaitAsync(async () =>
        {
            using var http = new HttpClient();
            var body = await http.GetStringAsync($"{p.Managers[0].RestUrl}/api/v1/alerts?agentId={Pipeline.AgentId}");
            var alerts = JsonDocument.Parse(body).RootElement.GetProperty("alerts");
            return alerts.EnumerateArray().FirstOrDefault(a => a.GetProperty("path").GetString() == target && a.GetProperty("kind").GetString() == "modified") is { ValueKind: JsonValueKind.Object } hit
                ? hit.Clone() : (JsonElement?)null;
        }, p);
        Assert.True(written.Elapsed < TimeSpan.FromSeconds(10), $"alert took {written.Elapsed}");
        Assert.Equal(7, rest.GetProperty("level").GetInt32());

        // The other manager serves the same alert over gRPC, through fimctl.
        var ctl = await RunCtlAsync(["alerts", "--agent", Pipeline.AgentId, "--json", "--server", p.Managers[1].GrpcUrl]);
        Assert.Contains(target, ctl);
        var history = await RunCtlAsync(["history", Pipeline.AgentId, target, "--json", "--server", p.Managers[1].GrpcUrl]);
        Assert.Contains("modified", history);
    }

    [Fact]
    public async Task A_manager_killed_mid_batch_loses_nothing_and_duplicates_nothing()
    {
        await using var p = await Pipeline.StartAsync(managers: 2);
        await p.StartAgentAsync();
        var files = Enumerable.Range(0, 300).Select(i => Path.Combine(p.Tree, $"f{i:D3}")).ToList();

        var writer = Task.Run(() => files.ForEach(f => File.WriteAllText(f, f)));
        await AwaitAsync(async () => (await p.AlertsAsync()).Count > 20 ? true : (bool?)null, p);
        p.Managers[0].Process.Kill();
        await writer;

        var events = await p.AwaitEveryEventAlertedAsync(es => files.All(Pipeline.Paths(es).Contains));
        Assert.True(events.Count >= files.Count);
    }

    [Fact]
    public async Task Nats_restarted_while_the_agent_publishes_loses_nothing_and_duplicates_nothing()
    {
        await using var p = await Pipeline.StartAsync(managers: 1);
        await p.StartAgentAsync();
        var before = Enumerable.Range(0, 50).Select(i => Path.Combine(p.Tree, $"before{i:D2}")).ToList();
        var during = Enumerable.Range(0, 50).Select(i => Path.Combine(p.Tree, $"during{i:D2}")).ToList();

        before.ForEach(f => File.WriteAllText(f, f));
        await p.Server.StopAsync();
        during.ForEach(f => File.WriteAllText(f, f));
        await p.Server.StartAsync();

        await p.AwaitEveryEventAlertedAsync(es => before.Concat(during).All(Pipeline.Paths(es).Contains));
    }

    [Fact]
    public async Task The_agent_killed_with_a_full_outbox_and_restarted_loses_nothing_and_duplicates_nothing()
    {
        await using var p = await Pipeline.StartAsync(managers: 1);
        var agent = await p.StartAgentAsync();
        await p.Server.StopAsync();
        var files = Enumerable.Range(0, 100).Select(i => Path.Combine(p.Tree, $"queued{i:D3}")).ToList();
        files.ForEach(f => File.WriteAllText(f, f));
        // Kill only once every new file's event sits in the durable outbox (NATS is down, so nothing left it).
        await AwaitAsync(async () => await p.AgentOutboxDepthAsync() >= files.Count ? true : (bool?)null, p);
        agent.Kill();
        await p.Server.StartAsync();
        await p.StartAgentAsync();

        await p.AwaitEveryEventAlertedAsync(es => files.All(Pipeline.Paths(es).Contains));
    }

    [Fact]
    public async Task A_manager_started_before_nats_becomes_ready_when_nats_appears()
    {
        await using var p = await Pipeline.StartAsync(managers: 1, natsLater: true);
        var m = p.Managers[0];
        await Task.WhenAny(Task.Delay(TimeSpan.FromSeconds(3)), WaitExit(m));
        Assert.False(m.Process.HasExited, m.Process.Output);
        Assert.False(await p.IsReadyAsync(m));

        await p.Server.StartAsync();

        await p.AwaitReadyAsync(m);
        await p.StartAgentAsync();
        var f = Path.Combine(p.Tree, "late.txt");
        File.WriteAllText(f, "x");
        await p.AwaitEveryEventAlertedAsync(es => Pipeline.Paths(es).Contains(f));
    }

    private static async Task WaitExit(Pipeline.Manager m)
    {
        while (!m.Process.HasExited)
        {
            await Task.Delay(50);
        }
    }

    private static async Task<T> AwaitAsync<T>(Func<Task<T?>> probe, Pipeline p) where T : struct
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < Pipeline.Deadline)
        {
            if (await probe() is { } value)
            {
                return value;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"condition not met within {Pipeline.Deadline}\n{p.Logs()}");
    }

    private static async Task<string> RunCtlAsync(string[] args)
    {
        using var ctl = ChildProcess.Dotnet(Programs.Ctl, args);
        var exit = await ctl.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(exit == 0, ctl.Output);
        return string.Join('\n', ctl.StdoutLines);
    }
}

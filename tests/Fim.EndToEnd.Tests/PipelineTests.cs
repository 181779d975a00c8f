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
        File.WriteAllText(target, "port=8080\n");

        var rest = await AwaitAsync(async () =>
        {
            using var http = p.AdminHttp();
            var body = await http.GetStringAsync($"{p.Managers[0].RestUrl}/api/v1/alerts?agentId={Pipeline.AgentId}");
            var alerts = JsonDocument.Parse(body).RootElement.GetProperty("alerts");
            return alerts.EnumerateArray().FirstOrDefault(a => a.GetProperty("path").GetString() == target && a.GetProperty("kind").GetString() == "modified") is { ValueKind: JsonValueKind.Object } hit
                ? hit.Clone() : (JsonElement?)null;
        }, p);
        Assert.Equal(7, rest.GetProperty("level").GetInt32());

        // The other manager serves the same alert over gRPC, through fimctl.
        var ctl = await RunCtlAsync(p, ["alerts", "--agent", Pipeline.AgentId, "--json", "--server", p.Managers[1].GrpcUrl]);
        Assert.Contains(target, ctl);
        var history = await RunCtlAsync(p, ["history", Pipeline.AgentId, target, "--json", "--server", p.Managers[1].GrpcUrl]);
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
        using var http = new HttpClient();
        await Eventually.TrueAsync(async () => (await http.GetAsync(m.RestUrl + "/healthz")).IsSuccessStatusCode, () => $"the manager to serve /healthz\n{m.Process.Output}");
        // Staying up without NATS is the behaviour under test, so it gets a window in which it could give up; a busy
        // machine only makes the window easier to survive, it cannot fail a manager that stays up.
        await Task.WhenAny(Task.Delay(TimeSpan.FromSeconds(3)), m.Process.Exited);
        Assert.False(m.Process.HasExited, m.Process.Output);
        Assert.False(await p.IsReadyAsync(m));

        await p.Server.StartAsync();

        await p.AwaitReadyAsync(m);
        await p.StartAgentAsync();
        var f = Path.Combine(p.Tree, "late.txt");
        File.WriteAllText(f, "x");
        await p.AwaitEveryEventAlertedAsync(es => Pipeline.Paths(es).Contains(f));
    }

    private static async Task<T> AwaitAsync<T>(Func<Task<T?>> probe, Pipeline p) where T : struct
    {
        T? value = null;
        await Eventually.TrueAsync(async () => (value = await probe()) is not null, () => $"the awaited result\n{p.Logs()}", Pipeline.Deadline);
        return value!.Value;
    }

    private static async Task<string> RunCtlAsync(Pipeline p, string[] args)
    {
        using var ctl = ChildProcess.Ctl(args, await p.CtlEnvironmentAsync());
        var exit = await ctl.WaitForExitAsync();
        Assert.True(exit == 0, ctl.Output);
        return string.Join('\n', ctl.StdoutLines);
    }
}

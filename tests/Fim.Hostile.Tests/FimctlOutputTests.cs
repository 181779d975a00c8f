using Fim.Contracts;
using Fim.Hostile.Tests.Support;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;

namespace Fim.Hostile.Tests;

/// <summary>Issue 11, case 4 (fimctl): control characters in file and host names were printed raw, forging output.</summary>
public sealed class FimctlOutputTests
{
    private const string Forged = "baseline recorded: 0 entries, all good";

    [Fact]
    public async Task Fimctl_alerts_agents_and_history_print_hostile_names_escaped()
    {
        await using var server = await NatsServer.StartAsync();
        await using var manager = await ManagerProcess.StartReadyAsync(server.Url);
        await using var nats = await HostileNats.ConnectAsync(server.Url);
        var agent = HostileNats.NewAgentId();
        var path = $"/tmp/\u001b[2J\u001b[H\r{Forged}\n\u001b[8mhidden";
        await nats.PublishAsync(agent, HostileNats.Json(HostileNats.Event(agent, path)));
        await Eventually.CountAsync(() => nats.AlertsAsync(agent), 1, "the hostile file's alert");
        var kv = new NatsKVContext(nats.Js);
        var bucket = await kv.GetStoreAsync(Subjects.AgentsBucket);
        var heartbeat = TestHeartbeats.Make(agent, new Dictionary<string, string> { ["env"] = "\u001b[32mprod" }, hostname: $"web\r{Forged}");
        await bucket.PutAsync(agent, ContractJson.ToUtf8(heartbeat), NatsRawSerializer<byte[]>.Default);

        var alerts = await FimctlAsync(manager, "alerts", "--agent", agent);
        Assert.Contains(@"/tmp/\e[2J\e[H\r" + Forged + @"\n\e[8mhidden", alerts);
        await Eventually.TrueAsync(async () => (await FimctlAsync(manager, "agents")).Contains(agent, StringComparison.Ordinal), "fimctl agents lists the agent");
        var agents = await FimctlAsync(manager, "agents");
        Assert.Contains(@"web\r" + Forged, agents);
        Assert.Contains(@"env=\e[32mprod", agents);
        var shown = await FimctlAsync(manager, "agent", agent);
        Assert.Contains(@"web\r" + Forged, shown);
    }

    /// <summary>Runs fimctl and checks its output holds no control character but the line ends it writes itself.</summary>
    private static async Task<string> FimctlAsync(ManagerProcess manager, params string[] args)
    {
        var result = await ChildProcess.RunCtlAsync(["--server", manager.GrpcUrl, .. args], await manager.CtlEnvironmentAsync());
        Assert.True(result.ExitCode == 0, result.Output);
        foreach (var line in result.Stdout.Split('\n'))
        {
            Assert.DoesNotContain(line, c => char.IsControl(c));
            Assert.False(line.StartsWith(Forged, StringComparison.Ordinal), $"a forged line: {line}");
        }
        return result.Stdout;
    }
}

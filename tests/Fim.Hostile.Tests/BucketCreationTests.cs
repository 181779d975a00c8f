using Fim.Contracts;
using Fim.Hostile.Tests.Support;
using Fim.Nats;
using Fim.Testing;
using NATS.Client.KeyValueStore;

namespace Fim.Hostile.Tests;

/// <summary>
/// Issue 11, case 8: without the operator nothing created KV fim-agents, so heartbeats failed forever, `fimctl agents`
/// was empty and every alert was tagged unknown-agent. Whoever runs first creates what it needs.
/// </summary>
public sealed class BucketCreationTests
{
    [Fact]
    public async Task A_manager_alone_creates_both_buckets_with_the_shared_settings()
    {
        await using var server = await NatsServer.StartAsync();
        await using var manager = await ManagerProcess.StartReadyAsync(server.Url);
        await using var nats = await HostileNats.ConnectAsync(server.Url);
        var kv = new NatsKVContext(nats.Js);

        foreach (var bucket in new[] { Subjects.AgentsBucket, Subjects.PoliciesBucket })
        {
            var store = await Eventually.WithinAsync(kv.GetStoreAsync(bucket).AsTask(), $"KV {bucket}");
            var status = await store.GetStatusAsync();
            var wanted = FimBuckets.Config(bucket);
            Assert.Equal(wanted.History, status.Info.Config.MaxMsgsPerSubject);
            Assert.Equal(NATS.Client.JetStream.Models.StreamConfigStorage.File, status.Info.Config.Storage);
        }
    }

    [Fact]
    public async Task Processes_starting_together_all_open_the_same_buckets()
    {
        await using var server = await NatsServer.StartAsync();
        await using var nats = await HostileNats.ConnectAsync(server.Url);
        var kv = new NatsKVContext(nats.Js);

        var opened = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            FimBuckets.OpenOrCreateAsync(kv, i % 2 == 0 ? Subjects.AgentsBucket : Subjects.PoliciesBucket, replicas: 1, CancellationToken.None)));

        Assert.Equal(8, opened.Length);
        Assert.Equal(2, (await kv.GetBucketNamesAsync().ToListAsync()).Count);
    }

    [Fact]
    public async Task Without_the_operator_an_agent_heartbeat_is_stored_listed_by_fimctl_and_its_alerts_are_not_unknown_agent()
    {
        await using var server = await NatsServer.StartAsync();
        await using var manager = await ManagerProcess.StartReadyAsync(server.Url);
        var root = Directory.CreateTempSubdirectory("fim-hostile-agent-").FullName;
        var tree = Directory.CreateDirectory(Path.Combine(root, "tree")).FullName;
        var agentId = HostileNats.NewAgentId("lonely");
        var policy = Path.Combine(root, "policy.yaml");
        await File.WriteAllTextAsync(policy, $"name: hostile\npaths:\n  - path: {tree}\n");
        var config = Path.Combine(root, "agent.yaml");
        await File.WriteAllTextAsync(config, $"""
            agentId: {agentId}
            labels: {"{"} role: web {"}"}
            nats:
              url: {server.Url}
            stateDir: {Path.Combine(root, "state")}
            keyFile: {Path.Combine(root, "keys", "baseline.key")}
            policyFile: {policy}
            heartbeatInterval: 1s
            """);
        using var agent = ChildProcess.Agent(["run", "--config", config]);
        await agent.AwaitLogAsync("revision 0 applied", ManagerProcess.Deadline);

        await Eventually.TrueAsync(async () =>
        {
            var listed = await ChildProcess.RunCtlAsync(["--server", manager.GrpcUrl, "agents"], await manager.CtlEnvironmentAsync());
            return listed.ExitCode == 0 && listed.Stdout.Contains(agentId, StringComparison.Ordinal);
        }, () => $"fimctl agents never listed {agentId}\n{agent.Output}", ManagerProcess.Deadline);

        await File.WriteAllTextAsync(Path.Combine(tree, "new-file"), "x");
        await using var nats = await HostileNats.ConnectAsync(server.Url);
        var alert = (await Eventually.CountAsync(() => nats.AlertsAsync(agentId), 1, "the new file's alert", ManagerProcess.Deadline))[0];
        Assert.DoesNotContain("unknown-agent", alert.Tags);
        Assert.Equal("web", alert.Labels!["role"]);
    }
}

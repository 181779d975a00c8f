using System.Text.Json;
using Fim.Hostile.Tests.Support;

namespace Fim.Hostile.Tests;

/// <summary>
/// Case 7: a state directory (or key file) inside a monitored root must not be monitored: each baseline write would
/// be a change to report and record, forever. It is excluded automatically, with a log line.
/// </summary>
public sealed class StateDirectoryTests : IDisposable
{
    private readonly Sandbox _s = new("statedir");

    private string[] InsideArgs => ["--state", _s["fim-state"], "--key-file", _s["keys/baseline.key"]];

    [Fact]
    public void A_state_directory_inside_the_root_is_excluded_and_a_rescan_reports_nothing()
    {
        _s.Write("a.txt", "a");

        var first = AgentCli.Run(["scan", _s.Tree, "--json", .. InsideArgs]);
        var second = AgentCli.Run(["scan", _s.Tree, "--json", .. InsideArgs]);

        Assert.True(first.ExitCode == 0, first.ToString());
        var messages = AgentCli.LogMessages(first.Stderr);
        Assert.Contains(messages, m => m.Contains($"state directory {_s["fim-state"]} is inside the monitored {_s.Tree}: excluded", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains($"baseline key file {_s["keys/baseline.key"]} is inside the monitored {_s.Tree}: excluded", StringComparison.Ordinal));
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Empty(second.StdoutLines);
    }

    [Fact]
    public void Watch_with_its_state_inside_the_root_reports_each_change_once_and_nothing_about_itself()
    {
        _s.Write("a.txt", "a");
        using var agent = AgentCli.Start(["watch", _s.Tree, "--json", .. InsideArgs]);
        agent.AwaitLog("realtime detection on", AgentCli.Timeout);

        File.WriteAllText(_s["a.txt"], "changed");
        AwaitAlert(agent, _s["a.txt"]);
        // A second, later change: had the first commit reported the agent's own journal write, it would show before this.
        _s.Write("b.txt", "b");
        AwaitAlert(agent, _s["b.txt"]);

        var paths = agent.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("path").GetString()!).ToList();
        Assert.DoesNotContain(paths, p => p.StartsWith(_s["fim-state"], StringComparison.Ordinal) || p.StartsWith(_s["keys"] + "/", StringComparison.Ordinal));
    }

    [Fact]
    public void A_root_inside_the_state_directory_is_refused()
    {
        var state = Path.Combine(_s.Root, "state");
        Directory.CreateDirectory(Path.Combine(state, "sub"));

        var r = AgentCli.Run(["scan", Path.Combine(state, "sub"), "--state", state, "--key-file", _s.KeyFile]);

        Assert.True(r.ExitCode == 15, r.ToString());
        Assert.Contains("inside the agent's state directory", r.Stderr);
    }

    [Fact]
    public async Task The_connected_agent_excludes_its_state_directory_from_a_policy_that_covers_it()
    {
        await using var nats = await Fim.Testing.NatsServer.StartAsync();
        _s.Write("a.txt", "a");
        var policy = Path.Combine(_s.Root, "policy.yaml");
        File.WriteAllText(policy, $"name: local-tree\npaths:\n  - path: {_s.Tree}\n");
        var config = Path.Combine(_s.Root, "agent.yaml");
        File.WriteAllText(config, $"agentId: hostile\nnats:\n  url: {nats.Url}\nstateDir: {_s["fim-state"]}\nkeyFile: {_s["keys/baseline.key"]}\npolicyFile: {policy}\n");

        using var agent = AgentCli.Start(["run", "--config", config]);

        await agent.AwaitLogAsync($"the state directory {_s["fim-state"]} is inside the monitored {_s.Tree}: excluded", AgentCli.Timeout);
        await agent.AwaitLogAsync($"the baseline key file {_s["keys/baseline.key"]} is inside the monitored {_s.Tree}: excluded", AgentCli.Timeout);
    }

    private static void AwaitAlert(Fim.Testing.ChildProcess agent, string path) =>
        agent.AwaitOutput(
            (stdout, _) => stdout.Any(l => l.Contains(JsonSerializer.Serialize(path), StringComparison.Ordinal)),
            () => $"an alert for {path}",
            AgentCli.Timeout);

    public void Dispose() => _s.Dispose();
}

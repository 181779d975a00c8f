using Fim.Hostile.Tests.Support;
using Fim.Testing;

namespace Fim.Hostile.Tests;

/// <summary>
/// Case 9: agent.yaml is read as strictly as a policy: a mistyped, duplicated or mistyped-in-type key is refused
/// with file, line and key (and a suggestion) instead of being ignored while the agent runs on defaults.
/// </summary>
public sealed class AgentConfigTests : IDisposable
{
    private readonly Sandbox _s = new("config");
    private readonly string _url = $"nats://127.0.0.1:{NatsServer.FreePort()}";

    [Fact]
    public void A_mistyped_nats_password_key_is_refused_with_line_and_suggestion()
    {
        var config = Config($"nats:\n  url: {_url}\n  user: alice\n  passwrd: pw\n");

        var r = AgentCli.Run(["run", "--config", config]);

        Assert.True(r.ExitCode == 15, r.ToString());
        Assert.Contains($"{config}:4:3: unknown key 'passwrd' in nats; did you mean 'password'?", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void A_mistyped_top_level_key_is_refused_instead_of_running_on_the_default()
    {
        var config = Config($"nats:\n  url: {_url}\noutboxMaxEvent: 10\n");

        var r = AgentCli.Run(["run", "--config", config]);

        Assert.True(r.ExitCode == 15, r.ToString());
        Assert.Contains($"{config}:3:1: unknown key 'outboxMaxEvent' in the top level; did you mean 'outboxMaxEvents'?", r.Stderr);
    }

    [Fact]
    public void Every_problem_is_listed_not_only_the_first()
    {
        var config = Config($"nats:\n  url: {_url}\n  tls:\n    cafile: /x\noutboxMaxEvent: 10\nheartbeat: 5s\n");

        var r = AgentCli.Run(["run", "--config", config]);

        Assert.True(r.ExitCode == 15, r.ToString());
        Assert.Contains("3 problems", r.Stderr);
        Assert.Contains($"{config}:4:5: unknown key 'cafile' in nats.tls; did you mean 'caFile'?", r.Stderr);
        Assert.Contains($"{config}:5:1: unknown key 'outboxMaxEvent'", r.Stderr);
        Assert.Contains($"{config}:6:1: unknown key 'heartbeat'", r.Stderr);
    }

    [Fact]
    public void A_duplicated_key_is_refused_naming_both_lines()
    {
        var config = Config($"nats:\n  url: {_url}\noutboxMaxEvents: 10\noutboxMaxEvents: 1000000\n");

        var r = AgentCli.Run(["run", "--config", config]);

        Assert.True(r.ExitCode == 15, r.ToString());
        Assert.Contains($"{config}:4:1: duplicate key 'outboxMaxEvents' in the top level (first given at line 3)", r.Stderr);
    }

    [Fact]
    public void A_value_of_the_wrong_type_is_refused_with_its_line()
    {
        var config = Config($"nats:\n  url: {_url}\npublishMaxInFlight: lots\n");

        var r = AgentCli.Run(["run", "--config", config]);

        Assert.True(r.ExitCode == 15, r.ToString());
        Assert.Contains($"{config}:3:21: 'publishMaxInFlight' expects an integer, got 'lots'", r.Stderr);
    }

    [Fact]
    public void A_key_in_another_case_is_refused_with_the_right_spelling()
    {
        var config = Config($"nats:\n  url: {_url}\nOutboxMaxEvents: 10\n");

        var r = AgentCli.Run(["run", "--config", config]);

        Assert.True(r.ExitCode == 15, r.ToString());
        Assert.Contains("did you mean 'outboxMaxEvents'?", r.Stderr);
    }

    [Fact]
    public void A_label_map_takes_any_names_but_still_refuses_duplicates()
    {
        var config = Config($"nats:\n  url: {_url}\nlabels:\n  topology.kubernetes.io/zone: a\n  zone: b\n  zone: c\n");

        var r = AgentCli.Run(["run", "--config", config]);

        Assert.True(r.ExitCode == 15, r.ToString());
        Assert.Contains("duplicate key 'zone'", r.Stderr);
        Assert.DoesNotContain("topology.kubernetes.io/zone", r.Stderr);
    }

    private string Config(string body)
    {
        var path = Path.Combine(_s.Root, "agent.yaml");
        // The problem lines come first, so the line numbers asserted are the body's own.
        File.WriteAllText(path, body + $"agentId: hostile\nstateDir: {_s.State}\nkeyFile: {_s.KeyFile}\n");
        return path;
    }

    public void Dispose() => _s.Dispose();
}

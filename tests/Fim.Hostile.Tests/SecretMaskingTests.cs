using Fim.Hostile.Tests.Support;
using Fim.Testing;

namespace Fim.Hostile.Tests;

/// <summary>Case 5: a NATS password never reaches the agent's log or error output, however it was given.</summary>
public sealed class SecretMaskingTests : IDisposable
{
    private const string Password = "Hunter2-s3cr3t";
    private readonly Sandbox _s = new("secret");

    [Theory]
    [InlineData("nats://alice:" + Password + "@127.0.0.1:99999")] // a bad port: refused as "not a server URL", echoed
    [InlineData("nats://alice:" + Password + "@x@127.0.0.1:4222")] // an '@' in the password
    [InlineData("nats://" + Password + "@127.0.0.1:4222")] // a token as user info
    [InlineData("nats://alice:" + Password + "@127.0.0.1:4222")]
    public void A_url_with_credentials_is_refused_without_showing_the_secret(string url)
    {
        var config = Config($"nats:\n  url: '{url}'\n");

        var r = AgentCli.Run(["run", "--config", config]);

        Assert.True(r.ExitCode == 15, r.ToString());
        Assert.Contains("nats.url", r.Stderr);
        Assert.DoesNotContain(Password, r.Output);
    }

    [Fact]
    public void A_url_with_credentials_from_the_environment_is_refused_without_showing_the_secret()
    {
        var config = Config("nats:\n  url: nats://127.0.0.1:4222\n");

        var r = AgentCli.Run(["run", "--config", config], env: new Dictionary<string, string>
        {
            ["FIM_NATS__URL"] = $"nats://bob:{Password}@127.0.0.1:99999,nats://127.0.0.1:4222",
        });

        Assert.True(r.ExitCode == 15, r.ToString());
        Assert.Contains("bob:***@", r.Stderr);
        Assert.DoesNotContain(Password, r.Output);
    }

    [Fact]
    public async Task The_start_up_line_names_the_login_but_never_the_password()
    {
        var port = NatsServer.FreePort(); // nothing listens: the agent logs its start and keeps retrying
        var config = Config($"nats:\n  url: nats://127.0.0.1:{port}\n  user: alice\n  password: {Password}\n");

        using var agent = AgentCli.Start(["run", "--config", config]);
        await agent.AwaitLogAsync("connected mode", AgentCli.Timeout);

        Assert.Contains("user alice with password", agent.Stderr);
        Assert.DoesNotContain(Password, agent.Output);
    }

    private string Config(string nats)
    {
        var path = Path.Combine(_s.Root, "agent.yaml");
        File.WriteAllText(path, $"{nats}stateDir: {_s.State}\nkeyFile: {_s.KeyFile}\nagentId: hostile\n");
        return path;
    }

    public void Dispose() => _s.Dispose();
}

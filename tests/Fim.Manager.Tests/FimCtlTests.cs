extern alias ctl;

using System.Text.Json;
using ctl::Fim.Ctl;

namespace Fim.Manager.Tests;

/// <summary>fimctl run in-process against a real manager over gRPC (h2c).</summary>
public sealed class FimCtlTests(ApiFixture f) : IClassFixture<ApiFixture>
{
    private string Server => $"http://127.0.0.1:{f.Manager.GrpcPort}";

    [Fact]
    public async Task Agents_lists_agents_with_labels_and_agent_shows_one()
    {
        var (code, output, _) = await RunAsync("agents", "--server", Server);

        Assert.Equal(Cli.Ok, code);
        Assert.Contains(output.Split('\n'), l => l.StartsWith(f.AgentA, StringComparison.Ordinal) && l.Contains("env=prod,zone=eu-west-1a"));

        (code, output, _) = await RunAsync("agent", f.AgentA, "--json", "--server", Server);
        Assert.Equal(Cli.Ok, code);
        Assert.Equal("1.2.3", JsonDocument.Parse(output).RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public async Task Alerts_filters_by_agent_and_level_and_prints_json_lines()
    {
        var (code, output, _) = await RunAsync("alerts", "--agent", f.AgentA, "--min-level", "7", "--since", "1h", "--json", "--server", Server);

        Assert.Equal(Cli.Ok, code);
        var rules = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("rule").GetProperty("id").GetString()).Order();
        Assert.Equal(["550", "556"], rules);

        (code, output, _) = await RunAsync("alerts", "-a", f.AgentA, "--server", Server);
        Assert.Equal(Cli.Ok, code);
        Assert.Equal(4, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // header + 3
    }

    [Fact]
    public async Task History_prints_the_changes_of_a_path()
    {
        var (code, output, _) = await RunAsync("history", f.AgentA, "/etc/passwd", "--server", Server);

        Assert.Equal(Cli.Ok, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains("modified", lines[1]);
        Assert.Contains("attributes", lines[2]);
    }

    [Fact]
    public async Task Errors_exit_non_zero_with_the_servers_message()
    {
        var (code, _, error) = await RunAsync("alerts", "--limit", "0", "--server", Server);
        Assert.Equal(Cli.InvalidArgument, code);
        Assert.Contains("InvalidArgument: limit: must be 1..1000", error);

        (code, _, error) = await RunAsync("scan", "nobody-listens", "--server", Server);
        Assert.Equal(Cli.Unavailable, code);
        Assert.Contains("fim.agent.nobody-listens.cmd", error);

        (code, _, error) = await RunAsync("agent", "nobody", "--server", Server);
        Assert.Equal(Cli.NotFound, code);

        (code, _, error) = await RunAsync("alerts", "--since", "last tuesday", "--server", Server);
        Assert.Equal(Cli.InvalidArgument, code);
        Assert.Contains("--since: 'last tuesday'", error);

        (code, _, error) = await RunAsync("alerts", "--min-level", "high");
        Assert.Equal(Cli.InvalidArgument, code);
    }

    [Fact]
    public async Task Server_comes_from_FIM_SERVER_when_not_given()
    {
        var (code, output, _) = await RunAsync(["agents"], new Dictionary<string, string> { ["FIM_SERVER"] = Server });

        Assert.Equal(Cli.Ok, code);
        Assert.Contains(f.AgentA, output);
    }

    [Theory]
    [InlineData("2h", -120)]
    [InlineData("30m", -30)]
    [InlineData("1d", -1440)]
    public void Ages_count_back_from_now(string text, int minutes)
    {
        var now = DateTimeOffset.UtcNow;
        Assert.True(TimeArgument.TryParse(text, now, out var t));
        Assert.Equal(now.AddMinutes(minutes), t);
        Assert.True(TimeArgument.TryParse("2024-05-01T10:00:00Z", now, out var absolute));
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero), absolute);
    }

    private Task<(int, string, string)> RunAsync(params string[] args) => RunAsync(args, new Dictionary<string, string>());

    private static async Task<(int Code, string Out, string Err)> RunAsync(string[] args, Dictionary<string, string> env)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await new Cli(stdout, stderr, name => env.GetValueOrDefault(name)).RunAsync(args);
        return (code, stdout.ToString(), stderr.ToString());
    }
}

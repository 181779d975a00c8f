extern alias ctl;

using System.Text.Json;
using ctl::Fim.Ctl;
using Fim.Testing;

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
        var (code, output, _) = await RunAsync(["agents"], new Dictionary<string, string>
        {
            ["FIM_SERVER"] = Server,
            ["FIM_TOKEN"] = await f.Manager.Oidc.TokenAsync(OidcProvider.Admin),
        });

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

    [Fact]
    public async Task Without_a_token_the_call_is_unauthenticated_and_says_how_to_pass_one()
    {
        var (code, _, error) = await RunAsync(["agents", "--server", Server], new Dictionary<string, string>());

        Assert.Equal(Cli.Unauthenticated, code);
        Assert.Contains("--token, FIM_TOKEN or --token-file", error);
    }

    [Fact]
    public async Task A_token_file_must_be_private_and_is_then_used()
    {
        var file = Path.Combine(Path.GetTempPath(), $"fim-token-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, await f.Manager.Oidc.TokenAsync(OidcProvider.Viewer) + "\n");
        try
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            var (code, _, error) = await RunAsync(["agents", "--server", Server, "--token-file", file], new Dictionary<string, string>());
            Assert.Equal(Cli.InvalidArgument, code);
            Assert.Contains("chmod 600", error);

            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            (code, var output, _) = await RunAsync(["agents", "--server", Server], new Dictionary<string, string> { ["FIM_TOKEN_FILE"] = file });
            Assert.Equal(Cli.Ok, code);
            Assert.Contains(f.AgentA, output);

            // A viewer may read but not scan.
            (code, _, error) = await RunAsync(["scan", f.AgentA, "--server", Server, "--token-file", file], new Dictionary<string, string>());
            Assert.Equal(Cli.PermissionDenied, code);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Token_create_prints_the_token_once_list_shows_it_and_revoke_ends_it()
    {
        var (code, output, error) = await RunAsync("token", "create", "--name", "ci-reader", "--role", "viewer", "--ttl", "2d", "--label", "team=payments",
            "--server", Server);
        Assert.Equal(Cli.Ok, code);
        var token = output.Trim();
        Assert.StartsWith("fimt_", token);
        var id = token.Split('_')[1];
        Assert.Contains($"token {id} (viewer)", error);

        (code, output, _) = await RunAsync(["agents", "--server", Server], new Dictionary<string, string> { ["FIM_TOKEN"] = token });
        Assert.Equal(Cli.Ok, code);
        Assert.DoesNotContain(f.AgentA, output); // limited to team=payments

        (code, output, _) = await RunAsync("token", "list", "--server", Server);
        Assert.Equal(Cli.Ok, code);
        var line = Assert.Single(output.Split('\n'), l => l.StartsWith(id, StringComparison.Ordinal));
        Assert.Contains("ci-reader", line);
        Assert.Contains("active", line);
        Assert.Contains("team=payments", line);
        Assert.DoesNotContain(token, output);

        (code, output, _) = await RunAsync("token", "revoke", id, "--server", Server);
        Assert.Equal(Cli.Ok, code);
        (code, _, _) = await RunAsync(["agents", "--server", Server], new Dictionary<string, string> { ["FIM_TOKEN"] = token });
        Assert.Equal(Cli.Unauthenticated, code);
    }

    [Fact]
    public async Task Maintenance_create_list_and_end_a_window_and_bad_input_names_the_field()
    {
        var (code, output, error) = await RunAsync("maintenance", "create", "--duration", "2h", "--label", "team=fimctl", "--reason", "patch day", "--json", "--server", Server);
        Assert.True(code == Cli.Ok, error);
        var window = JsonDocument.Parse(output).RootElement;
        var id = window.GetProperty("windowId").GetString()!;
        Assert.Equal($"maintenance:{id}", window.GetProperty("tag").GetString());

        (code, output, _) = await RunAsync("maintenance", "list", "--server", Server);
        Assert.Equal(Cli.Ok, code);
        Assert.Contains(output.Split('\n'), l => l.StartsWith(id, StringComparison.Ordinal) && l.Contains("team=fimctl") && l.Contains("patch day"));

        (code, output, _) = await RunAsync("maintenance", "end", id, "--server", Server);
        Assert.Equal(Cli.Ok, code);
        Assert.Contains($"maintenance window {id} ended", output);
        (code, output, _) = await RunAsync("maintenance", "list", "--server", Server);
        Assert.DoesNotContain(id, output);
        (code, output, _) = await RunAsync("maintenance", "list", "--all", "--server", Server);
        Assert.Contains(id, output);

        (code, _, error) = await RunAsync("maintenance", "create", "--duration", "soon", "--reason", "x", "--server", Server);
        Assert.Equal(Cli.InvalidArgument, code);
        Assert.Contains("--duration", error);
        (code, _, error) = await RunAsync("maintenance", "create", "--start", "2099-01-02T00:00:00Z", "--end", "2099-01-01T00:00:00Z", "--reason", "x", "--server", Server);
        Assert.Equal(Cli.InvalidArgument, code);
        Assert.Contains("start:", error);
        (code, _, error) = await RunAsync("maintenance", "create", "--duration", "1h", "--server", Server);
        Assert.Equal(Cli.InvalidArgument, code);
        Assert.Contains("reason:", error);
    }

    private async Task<(int, string, string)> RunAsync(params string[] args) =>
        await RunAsync(args, new Dictionary<string, string> { ["FIM_TOKEN"] = await f.Manager.Oidc.TokenAsync(OidcProvider.Admin) });

    private static async Task<(int Code, string Out, string Err)> RunAsync(string[] args, Dictionary<string, string> env)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await new Cli(stdout, stderr, name => env.GetValueOrDefault(name)).RunAsync(args);
        return (code, stdout.ToString(), stderr.ToString());
    }
}

using Fim.Nats.Identity;
using Fim.Testing;

namespace Fim.EndToEnd.Tests;

/// <summary>
/// The real binaries: a manager with enrollment, fimctl making a join token, `fim-agent enroll` on a "host", all at
/// debug level; no join token, seed or secret of the set-up appears in any log line or error message.
/// </summary>
public sealed class EnrollmentEndToEndTests
{
    [Fact]
    public async Task Fim_agent_enroll_gets_an_identity_refusals_say_why_and_no_secret_reaches_a_log()
    {
        var accounts = new NatsJwtAccounts();
        await using var server = await NatsServer.StartAsync(accounts.ServerConfig());
        var settings = accounts.WriteEnrollmentFiles(server.WorkDir);
        var (http, grpc) = (NatsServer.FreePort(), NatsServer.FreePort());
        // The API wants a caller: the test's OIDC provider, and fimctl as its admin.
        var oidc = await OidcProvider.SharedAsync();
        var env = settings.Concat(oidc.ManagerSettings(browserLogin: false))
            .ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value ?? "");
        var ctlEnv = new Dictionary<string, string> { ["FIM_TOKEN"] = await oidc.TokenAsync(OidcProvider.Admin) };
        env["Fim__Nats__Url"] = server.Url;
        env["Fim__Api__Address"] = "127.0.0.1";
        env["Fim__Api__HttpPort"] = http.ToString();
        env["Fim__Api__GrpcPort"] = grpc.ToString();
        env["Fim__Store__DataDirectory"] = Path.Combine(server.WorkDir, "manager-store");
        env["Fim__Telemetry__LogLevel"] = "Debug";
        using var manager = ChildProcess.Dotnet(Programs.Manager, [], env);
        await manager.AwaitLogAsync("Answering enrollment requests", TimeSpan.FromSeconds(60));
        var ctl = new[] { "--server", $"http://127.0.0.1:{grpc}" };

        var created = await ChildProcess.RunCtlAsync([.. ctl, "join-token", "create", "--uses", "1", "--ttl", "1h", "--description", "e2e"], ctlEnv);
        Assert.True(created.ExitCode == 0, created.Output);
        var token = created.Stdout.Trim();
        var parsed = Fim.Contracts.JoinToken.Parse(token);
        var tokenFile = Path.Combine(server.WorkDir, "join-token");
        await File.WriteAllTextAsync(tokenFile, token);

        var creds = Path.Combine(server.WorkDir, "host", "agent.creds");
        var enroll = await ChildProcess.RunAgentAsync(
            ["enroll", "--nats-url", server.Url, "--join-token-file", tokenFile, "--creds-file", creds, "--agent-id", "host-1", "--log-level", "debug"]);
        Assert.True(enroll.ExitCode == 0, enroll.Output);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(creds));
        var agentSeed = Fim.Nats.NKeySeedFile.Read(creds).GetSeed();

        // Run again: the creds file is there, so no token use and the same key.
        var again = await ChildProcess.RunAgentAsync(
            ["enroll", "--nats-url", server.Url, "--join-token-file", tokenFile, "--creds-file", creds, "--agent-id", "host-1", "--log-level", "debug"]);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Equal(agentSeed, Fim.Nats.NKeySeedFile.Read(creds).GetSeed());

        var usedUp = await ChildProcess.RunAgentAsync(
            ["enroll", "--nats-url", server.Url, "--join-token-file", tokenFile, "--creds-file", Path.Combine(server.WorkDir, "other.creds"), "--agent-id", "host-2", "--log-level", "debug"]);
        Assert.Equal(22, usedUp.ExitCode);
        Assert.Contains("used up (1 of 1 uses)", usedUp.Stderr);

        var listed = await ChildProcess.RunCtlAsync([.. ctl, "identity", "list"], ctlEnv);
        Assert.Contains("host-1", listed.Stdout);
        var revoked = await ChildProcess.RunCtlAsync([.. ctl, "identity", "revoke", "host-1"], ctlEnv);
        Assert.True(revoked.ExitCode == 0, revoked.Output);
        var tokens = await ChildProcess.RunCtlAsync([.. ctl, "join-token", "list"], ctlEnv);
        Assert.Contains("1/1", tokens.Stdout);
        manager.Terminate();
        await manager.WaitForExitAsync();

        var secrets = new Dictionary<string, string>
        {
            ["join token"] = token,
            ["join token secret"] = parsed.Secret,
            ["bootstrap seed"] = parsed.BootstrapSeed,
            ["agent seed"] = agentSeed,
            ["operator seed"] = accounts.Setup.Operator.GetSeed(),
            ["account seed"] = accounts.Setup.Account.GetSeed(),
            ["manager seed"] = Fim.Nats.NKeySeedFile.Read(settings["Fim:Nats:CredsFile"]!).GetSeed(),
            ["system seed"] = Fim.Nats.NKeySeedFile.Read(settings["Fim:Enrollment:SystemCredsFile"]!).GetSeed(),
        };
        // fimctl join-token create prints the token on stdout by design (once); its stderr must not.
        var outputs = new Dictionary<string, string>
        {
            ["manager"] = manager.AllOutput,
            ["fimctl join-token create (stderr)"] = created.Stderr,
            ["fim-agent enroll"] = enroll.Output,
            ["fim-agent enroll again"] = again.Output,
            ["fim-agent enroll used up"] = usedUp.Output,
            ["fimctl identity"] = listed.Output + revoked.Output + tokens.Output,
            ["nats-server"] = server.Log,
        };
        Assert.Contains("Debug", manager.AllOutput, StringComparison.OrdinalIgnoreCase);
        foreach (var (what, text) in outputs)
        {
            foreach (var (name, secret) in secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"the {name} appears in the output of {what}");
            }
        }
    }
}

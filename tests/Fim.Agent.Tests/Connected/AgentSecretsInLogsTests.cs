using Fim.Contracts;
using Fim.Testing;
using NATS.Client.Core;
using NATS.NKeys;

namespace Fim.Agent.Tests.Connected;

/// <summary>
/// Acceptance 6 for the connected agent: `fim-agent run` at verbose level (the NATS client's own logging included) with
/// known secrets, a password in the URL, a password in the options, an NKey seed file and a wrong password, publishes
/// its events, and no secret appears in its log, its errors, the events or the heartbeats.
/// </summary>
public sealed class AgentSecretsInLogsTests
{
    private const string UrlPassword = "UrlPw-7f3a9c";
    private const string OptionPassword = "OptPw-2b8e1d";
    private const string WrongPassword = "WrongPw-5d1e0a";
    private const string AdminPassword = "AdminPw-91c4";

    [Fact]
    public async Task No_password_or_seed_reaches_the_agents_log_errors_events_or_heartbeats_at_verbose_level()
    {
        var seedKey = KeyPair.CreatePair(PrefixByte.User);
        var config = $$"""
            authorization { users = [
              { user: admin, password: "{{AdminPassword}}" },
              { user: urluser, password: "{{UrlPassword}}" },
              { user: optuser, password: "{{OptionPassword}}" },
              { nkey: {{seedKey.GetPublicKey()}} }
            ] }
            """;
        await using var h = await ConnectedHarness.StartAsync("secrets", serverConfig: config,
            adminOpts: NatsOpts.Default with { AuthOpts = NatsAuthOpts.Default with { Username = "admin", Password = AdminPassword } });
        var seedFile = Path.Combine(h.Tree.Root, "agent.nk");
        await File.WriteAllTextAsync(seedFile, seedKey.GetSeed() + "\n");
        var secrets = new[] { UrlPassword, OptionPassword, WrongPassword, AdminPassword, seedKey.GetSeed(), seedKey.GetSeed()[..20] };
        var verbose = new Dictionary<string, string> { ["FIM_LOG_LEVEL"] = "verbose" };
        var port = new Uri(h.Server.Url).Port;
        var logs = new List<string>();
        h.Tree.Write("etc/app.conf", "a=0\n");
        var policy = h.WritePolicy("secret-etc", h.Tree["etc"]);

        async Task RunAsync(string agentId, string url, Dictionary<string, string> env)
        {
            h.AgentId = agentId;
            h.WriteConfig(policyFile: policy, url: url);
            using var agent = h.StartAgent(new Dictionary<string, string>(verbose.Concat(env)));
            agent.AwaitLog("revision 0 applied", ConnectedHarness.Deadline);
            var marker = h.Tree["etc/" + agentId + ".conf"];
            await File.WriteAllTextAsync(marker, agentId + "\n");
            await h.AwaitEventsAsync(es => es.Any(e => e.Path == marker && e.Subject == Subjects.Events(agentId)), context: () => agent.Stderr);
            await h.AwaitHeartbeatAsync(_ => true, () => agent.Stderr);
            agent.Kill();
            logs.Add(agent.Stderr);
        }

        // A password in the URL is refused before anything starts, without repeating it.
        h.AgentId = "agent-url";
        h.WriteConfig(policyFile: policy, url: $"nats://urluser:{UrlPassword}@127.0.0.1:{port}");
        using (var inUrl = h.StartAgent(verbose))
        {
            Assert.NotEqual(0, inUrl.AwaitExit(ConnectedHarness.Deadline));
            Assert.Contains("must not hold credentials", inUrl.Stderr);
            logs.Add(inUrl.Stderr);
        }
        await RunAsync("agent-user", h.Server.Url, new() { ["FIM_NATS__USER"] = "urluser", ["FIM_NATS__PASSWORD"] = UrlPassword });
        await RunAsync("agent-opt", h.Server.Url, new() { ["FIM_NATS__USER"] = "optuser", ["FIM_NATS__PASSWORD"] = OptionPassword });
        await RunAsync("agent-nkey", h.Server.Url, new() { ["FIM_NATS__NKEYFILE"] = seedFile });

        // Refused: the error says so, without the password it tried.
        h.AgentId = "agent-wrong";
        h.WriteConfig(policyFile: policy);
        using (var wrong = h.StartAgent(new Dictionary<string, string>(verbose) { ["FIM_NATS__USER"] = "urluser", ["FIM_NATS__PASSWORD"] = WrongPassword }))
        {
            await Eventually.TrueAsync(() => wrong.HasExited || wrong.Stderr.Contains("Authorization Violation", StringComparison.OrdinalIgnoreCase)
                || wrong.Stderr.Contains("refused", StringComparison.OrdinalIgnoreCase), () => "the refused login in the log\n" + wrong.Stderr);
            if (!wrong.HasExited)
            {
                wrong.Kill();
            }
            logs.Add(wrong.Stderr);
        }

        // Verbose really was verbose: the NATS client's own debug lines are in (where a URL would show).
        Assert.Contains(logs, l => l.Contains("\"@l\":\"Debug\"", StringComparison.Ordinal) || l.Contains("\"@l\":\"Verbose\"", StringComparison.Ordinal));
        var events = await h.ReadEventsAsync();
        Assert.Equal(3, events.Select(e => e.Subject).Distinct().Count());
        var stored = string.Join("\n", events.Select(e => e.Body.GetRawText() + " " + e.MsgId + " " + e.TraceParent));
        var heartbeats = new List<string>();
        var agents = await h.Kv.GetStoreAsync(Subjects.AgentsBucket);
        foreach (var id in new[] { "agent-user", "agent-opt", "agent-nkey" })
        {
            var entry = await agents.TryGetEntryAsync<byte[]>(id);
            if (entry.Success && entry.Value.Value is { } bytes)
            {
                heartbeats.Add(System.Text.Encoding.UTF8.GetString(bytes));
            }
        }
        Assert.Equal(3, heartbeats.Count);
        foreach (var secret in secrets)
        {
            foreach (var (what, text) in logs.Select((l, i) => ($"log of run {i}", l)).Append(("events", stored)).Append(("heartbeats", string.Join("\n", heartbeats))))
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"a secret ({secret[..4]}...) is in the {what}:\n{text}");
            }
        }
    }
}

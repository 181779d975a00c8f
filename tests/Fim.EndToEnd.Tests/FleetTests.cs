using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Fim.Contracts;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;

namespace Fim.EndToEnd.Tests;

/// <summary>
/// The live fleet query and the agent lifecycle with real processes: nats-server, a fim-manager and several fim-agents
/// (connected, each with its own id, labels, state and key) watching the same tree through a local policy.
/// </summary>
public sealed class FleetTests
{
    private static string Line(IEnumerable<string> lines, string agent) =>
        Assert.Single(lines, l => l.StartsWith(agent + " ", StringComparison.Ordinal));

    [Fact]
    public async Task A_fleet_query_streams_each_matching_agents_answer_lists_the_silent_ones_and_reaches_only_what_the_caller_may_see()
    {
        await using var p = await Pipeline.StartAsync(managers: 1, managerSettings: new Dictionary<string, string> { ["Fim__Fleet__MaxQueryTimeout"] = "00:00:30" });
        var shared = Path.Combine(p.Root, "shared");
        Directory.CreateDirectory(Path.Combine(shared, "app"));
        var file = Path.Combine(shared, "app", "app.conf");
        File.WriteAllText(file, "listen 8080\n");
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
        using var pay1 = await FleetAgent.StartAsync(p, "fleet-pay-1", "payments", shared);
        using var pay2 = await FleetAgent.StartAsync(p, "fleet-pay-2", "payments", shared);
        using var web1 = await FleetAgent.StartAsync(p, "fleet-web-1", "web", shared);

        // A payments agent that is connected but never answers: the query waits for it until the deadline.
        await using var nats = new NatsConnection(new NatsOpts { Url = p.Server.Url, Name = "fleet-test-stuck-agent" });
        await using var stuck = await nats.SubscribeCoreAsync<byte[]>(Subjects.AgentCommand("fleet-stuck"));
        await nats.PingAsync();
        var agentsKv = await new NatsKVContext(await p.JetStreamAsync()).GetStoreAsync(Subjects.AgentsBucket);
        await agentsKv.PutAsync("fleet-stuck", ContractJson.ToUtf8(TestHeartbeats.Make("fleet-stuck", new Dictionary<string, string> { ["team"] = "payments" })));

        using var admin = p.AdminHttp(TimeSpan.FromSeconds(60));
        var rest = p.Managers[0].RestUrl;
        await Eventually.TrueAsync(async () =>
        {
            var list = await admin.GetStringAsync($"{rest}/api/v1/agents");
            return new[] { "fleet-pay-1", "fleet-pay-2", "fleet-web-1", "fleet-stuck" }.All(a => list.Contains($"\"{a}\"", StringComparison.Ordinal));
        }, () => $"all four agents in the directory\n{p.Logs()}", Pipeline.Deadline);
        pay2.Process.Kill();

        // REST: JSON lines, the answering agent's as soon as it answers, the stuck one's when the deadline passes.
        var clock = Stopwatch.StartNew();
        var url = $"{rest}/api/v1/fleet/query?path={Uri.EscapeDataString(file)}&selector={Uri.EscapeDataString("team=payments")}&timeout=4s";
        using var response = await admin.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var answers = new Dictionary<string, (JsonElement Answer, TimeSpan At)>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Trim().Length == 0)
            {
                continue;
            }
            var answer = JsonDocument.Parse(line).RootElement.Clone();
            answers[answer.GetProperty("agentId").GetString()!] = (answer, clock.Elapsed);
        }
        var total = clock.Elapsed;
        Assert.Equal(["fleet-pay-1", "fleet-pay-2", "fleet-stuck"], answers.Keys.Order());
        var (present, presentAt) = answers["fleet-pay-1"];
        Assert.Equal("present", present.GetProperty("outcome").GetString());
        Assert.Equal(sha, present.GetProperty("sha256").GetString());
        Assert.Equal("12", present.GetProperty("size").ToString().Trim('"'));
        Assert.Equal("e2e", present.GetProperty("policy").GetString());
        Assert.Equal("no-answer", answers["fleet-pay-2"].Answer.GetProperty("outcome").GetString());
        Assert.Equal("no-answer", answers["fleet-stuck"].Answer.GetProperty("outcome").GetString());
        Assert.Contains("4s", answers["fleet-stuck"].Answer.GetProperty("error").GetString());
        Assert.True(total >= TimeSpan.FromSeconds(3.5), $"the stream ended at {total}, before the deadline");
        Assert.True(presentAt < total - TimeSpan.FromSeconds(2), $"the answer came at {presentAt}, the stream ended at {total}: not streamed");

        // fimctl over gRPC: every agent (no selector), a missing file is absent, a changed file shows its new hash.
        File.WriteAllText(file, "listen 9090\n");
        var newSha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
        var env = await p.CtlEnvironmentAsync();
        using (var ctl = ChildProcess.Ctl(["query", file, "--timeout", "2s", "--server", p.Managers[0].GrpcUrl], env))
        {
            Assert.True(await ctl.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, ctl.Output);
            Assert.Contains(newSha, Line(ctl.StdoutLines, "fleet-pay-1"));
            Assert.Contains(newSha, Line(ctl.StdoutLines, "fleet-web-1"));
            Assert.Contains("no-answer", Line(ctl.StdoutLines, "fleet-pay-2"));
            Assert.Contains("no-answer", Line(ctl.StdoutLines, "fleet-stuck"));
            Assert.Contains("2 agent(s) did not answer", ctl.Output);
        }
        using (var ctl = ChildProcess.Ctl(["query", Path.Combine(shared, "app", "gone.conf"), "--selector", "team=web", "--timeout", "2s",
            "--json", "--server", p.Managers[0].GrpcUrl], env))
        {
            Assert.True(await ctl.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, ctl.Output);
            var only = JsonDocument.Parse(Assert.Single(ctl.StdoutLines)).RootElement;
            Assert.Equal("fleet-web-1", only.GetProperty("agentId").GetString());
            Assert.Equal("absent", only.GetProperty("outcome").GetString());
        }

        // Agents answer only inside their policies: a readable file elsewhere, or a way out through "..", is not read.
        var outside = Path.Combine(p.Root, "outside.txt");
        File.WriteAllText(outside, "secret");
        var answer1 = await QueryOneAsync(admin, rest, outside, "fleet-web-1");
        Assert.Equal("error", answer1.GetProperty("outcome").GetString());
        Assert.Equal("path not under any policy", answer1.GetProperty("error").GetString());
        Assert.Equal("", Str(answer1, "sha256"));
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync($"{rest}/api/v1/fleet/query?path={Uri.EscapeDataString(shared + "/../outside.txt")}")).StatusCode);
        // A symlinked directory inside the tree leads outside: refused, not followed.
        Directory.CreateSymbolicLink(Path.Combine(shared, "escape"), p.Root);
        var viaLink = await QueryOneAsync(admin, rest, Path.Combine(shared, "escape", "outside.txt"), "fleet-web-1");
        Assert.Equal("error", viaLink.GetProperty("outcome").GetString());
        Assert.Equal("", Str(viaLink, "sha256"));
        Assert.Equal("path not under any policy", Str(viaLink, "error"));

        // A viewer limited to team=payments never reaches the web agent, even when asking for it.
        using var paymentsViewer = new HttpClient(p.Oidc.BearerHandler(OidcProvider.PaymentsViewer)) { Timeout = TimeSpan.FromSeconds(60) };
        var scoped = await paymentsViewer.GetStringAsync($"{rest}/api/v1/fleet/query?path={Uri.EscapeDataString(file)}&selector=team%3Dweb&timeout=1s");
        Assert.Equal("", scoped.Trim());
        var scopedAll = await paymentsViewer.GetStringAsync($"{rest}/api/v1/fleet/query?path={Uri.EscapeDataString(file)}&timeout=1s");
        Assert.DoesNotContain("fleet-web-1", scopedAll);
        Assert.Contains("fleet-pay-1", scopedAll);
    }

    /// <summary>A string field of proto JSON, which may leave out an empty one.</summary>
    private static string Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() ?? "" : "";

    private static async Task<JsonElement> QueryOneAsync(HttpClient http, string rest, string path, string agent)
    {
        var body = await http.GetStringAsync($"{rest}/api/v1/fleet/query?path={Uri.EscapeDataString(path)}&selector=team%3Dweb&timeout=5s");
        var line = Assert.Single(body.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Trim().Length > 0);
        var answer = JsonDocument.Parse(line).RootElement.Clone();
        Assert.Equal(agent, answer.GetProperty("agentId").GetString());
        return answer;
    }

    [Fact]
    public async Task A_real_agent_turns_disconnected_when_stopped_is_pruned_by_fimctl_keeps_its_alerts_and_comes_back_active()
    {
        await using var p = await Pipeline.StartAsync(managers: 1, managerSettings: new Dictionary<string, string> { ["Fim__Fleet__DisconnectedAfter"] = "00:00:03" });
        var tree = Path.Combine(p.Root, "watched");
        Directory.CreateDirectory(tree);
        var agent = await FleetAgent.StartAsync(p, "fleet-life", "payments", tree);
        var env = await p.CtlEnvironmentAsync();
        var server = p.Managers[0].GrpcUrl;

        async Task<(int Code, IReadOnlyList<string> Lines, string Output)> CtlAsync(params string[] args)
        {
            using var ctl = ChildProcess.Ctl([.. args, "--server", server], env);
            var code = await ctl.WaitForExitAsync(TimeSpan.FromSeconds(60));
            return (code, [.. ctl.StdoutLines], ctl.Output);
        }

        File.WriteAllText(Path.Combine(tree, "new.txt"), "x");
        await Eventually.TrueAsync(async () => (await p.AlertsAsync()).Any(a => a.Body.GetProperty("agentId").GetString() == "fleet-life"),
            () => $"an alert of fleet-life\n{p.Logs()}", Pipeline.Deadline);
        await Eventually.TrueAsync(async () => (await CtlAsync("agents")).Lines.Any(l => l.StartsWith("fleet-life ", StringComparison.Ordinal) && l.Contains(" active ")),
            () => $"fleet-life active\n{p.Logs()}", Pipeline.Deadline);

        // An active agent is never pruned.
        var refused = await CtlAsync("agents", "prune", "--older-than", "0s", "--agent", "fleet-life");
        Assert.True(refused.Code != 0, refused.Output);
        Assert.Contains("is active", refused.Output);

        agent.Process.Terminate();
        await agent.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(async () => (await CtlAsync("agents", "--status", "disconnected")).Lines.Any(l => l.StartsWith("fleet-life ", StringComparison.Ordinal)),
            () => $"fleet-life disconnected\n{p.Logs()}", Pipeline.Deadline);

        // Alerts may still arrive after this (the agent's last events), so the check is that none stored before is gone.
        var alertsBefore = (await p.AlertsAsync()).Where(a => a.Body.GetProperty("agentId").GetString() == "fleet-life")
            .Select(a => a.Body.GetProperty("alertId").GetString()).ToList();
        var pruned = await CtlAsync("agents", "prune", "--older-than", "1s");
        Assert.True(pruned.Code == 0, pruned.Output);
        Assert.Contains(pruned.Lines, l => l.StartsWith("removed fleet-life ", StringComparison.Ordinal));
        Assert.DoesNotContain((await CtlAsync("agents")).Lines, l => l.StartsWith("fleet-life ", StringComparison.Ordinal));
        Assert.Contains((await CtlAsync("agents", "--status", "removed")).Lines, l => l.StartsWith("fleet-life ", StringComparison.Ordinal) && l.Contains(" removed "));
        var removed = await CtlAsync("agent", "fleet-life", "--json");
        var record = JsonDocument.Parse(string.Join('\n', removed.Lines)).RootElement;
        Assert.Equal("removed", record.GetProperty("status").GetString());
        Assert.Equal(OidcProvider.Admin, record.GetProperty("removedBy").GetString());
        Assert.True(record.TryGetProperty("removedAt", out _));
        // Its history stays: every alert is still in FIM_ALERTS.
        var alertsAfter = (await p.AlertsAsync()).Select(a => a.Body.GetProperty("alertId").GetString()).ToHashSet();
        Assert.NotEmpty(alertsBefore);
        Assert.All(alertsBefore, id => Assert.Contains(id, alertsAfter));

        // Back again: it registers as active with its next heartbeat.
        using var again = await FleetAgent.StartAsync(p, "fleet-life", "payments", tree, fresh: false);
        await Eventually.TrueAsync(async () => (await CtlAsync("agents")).Lines.Any(l => l.StartsWith("fleet-life ", StringComparison.Ordinal) && l.Contains(" active ")),
            () => $"fleet-life active again\n{p.Logs()}", Pipeline.Deadline);
        agent.Dispose();
    }
}

/// <summary>A connected fim-agent with its own id, labels, state directory and key, monitoring one tree through a local policy.</summary>
internal sealed class FleetAgent : IDisposable
{
    private FleetAgent(ChildProcess process) => Process = process;

    public ChildProcess Process { get; }

    public static async Task<FleetAgent> StartAsync(Pipeline p, string id, string team, string tree, bool fresh = true)
    {
        var dir = Path.Combine(p.Root, "agents", id);
        Directory.CreateDirectory(dir);
        var policy = Path.Combine(dir, "policy.yaml");
        File.WriteAllText(policy, $"name: e2e\npaths:\n  - path: {tree}\n");
        var config = Path.Combine(dir, fresh ? "agent.yaml" : "agent-again.yaml");
        File.WriteAllText(config, $"""
            agentId: {id}
            labels: {"{"} team: {team} {"}"}
            nats:
              url: {p.Server.Url}
            stateDir: {Path.Combine(dir, "state")}
            keyFile: {Path.Combine(dir, "keys", "baseline.key")}
            policyFile: {policy}
            heartbeatInterval: 1s
            metricsListen: 127.0.0.1:{NatsServer.FreePort()}
            """);
        var process = ChildProcess.Agent(["run", "--config", config]);
        try
        {
            await process.AwaitLogAsync("revision 0 applied", Pipeline.Deadline);
            await process.AwaitLogAsync("answering commands on", Pipeline.Deadline);
        }
        catch
        {
            process.Dispose();
            throw;
        }
        return new FleetAgent(process);
    }

    public void Dispose() => Process.Dispose();
}

using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Fim.Contracts;
using Fim.Testing;
using NATS.Client.KeyValueStore;

namespace Fim.EndToEnd.Tests;

/// <summary>
/// What a real agent says about itself reaches the API and fimctl unchanged: a real fim-agent (connected, its policy from
/// KV fim-policies as under the operator) and a real fim-manager on a real nats-server, no hand-made heartbeat anywhere.
/// </summary>
public sealed class AgentDirectoryTests
{
    private const string PolicyName = "prod/web";
    private const long Revision = 3;

    [Fact]
    public async Task The_API_and_fimctl_show_the_agents_real_host_version_labels_revision_and_last_scan()
    {
        await using var p = await Pipeline.StartAsync(managers: 1);
        var kv = new NatsKVContext(await p.JetStreamAsync());
        // The operator's part: both buckets (the manager may have made them already, with the same settings), and the
        // policy document it would write for a FimPolicy prod/web.
        var policies = await Fim.Nats.FimBuckets.OpenOrCreateAsync(kv, Subjects.PoliciesBucket, replicas: 1, CancellationToken.None);
        await Fim.Nats.FimBuckets.OpenOrCreateAsync(kv, Subjects.AgentsBucket, replicas: 1, CancellationToken.None);
        var document = new PolicyDocument
        {
            Revision = Revision,
            Name = PolicyName,
            Selector = new LabelSelector { MatchLabels = new Dictionary<string, string> { ["role"] = "web" } },
            Spec = JsonSerializer.SerializeToElement(new { paths = new[] { new { path = p.Tree } } }),
        };
        await policies.PutAsync(Subjects.PolicyKey("prod", "web"), ContractJson.ToUtf8(document));
        File.WriteAllText(Path.Combine(p.Tree, "index.html"), "hello");
        await p.StartAgentAsync(localPolicy: false);

        // The heartbeat as the agent wrote it, read with the shared type, once the policy is applied and scanned.
        Heartbeat? hb = null;
        await Eventually.TrueAsync(async () =>
        {
            var agents = await kv.GetStoreAsync(Subjects.AgentsBucket);
            var entry = await agents.TryGetEntryAsync<byte[]>(Pipeline.AgentId);
            hb = entry.Success && entry.Value.Value is { } bytes ? ContractJson.ReadHeartbeat(bytes) : null;
            return hb is { LastScan: not null } && hb.AppliedPolicies.GetValueOrDefault(PolicyName) == Revision;
        }, () => $"a heartbeat with {PolicyName} at revision {Revision} and a last scan; last: {hb}\n{p.Logs()}", Pipeline.Deadline);
        var expectedVersion = AssemblyName.GetAssemblyName(Programs.Agent).Version!.ToString();
        Assert.Equal(Environment.MachineName, hb!.Hostname);
        Assert.Equal(expectedVersion, hb.Version);

        // GET /api/v1/agents/{id}: every field the agent knows, as the agent reported it.
        using var http = p.AdminHttp(TimeSpan.FromSeconds(10));
        var url = $"{p.Managers[0].RestUrl}/api/v1/agents/{Pipeline.AgentId}";
        JsonElement agent = default;
        await Eventually.TrueAsync(async () =>
        {
            var response = await http.GetAsync(url);
            if (!response.IsSuccessStatusCode)
            {
                return false;
            }
            agent = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            return agent.TryGetProperty("lastScan", out _) && agent.GetProperty("bootId").GetString() == hb.BootId;
        }, () => $"GET {url} with the agent's boot id and last scan; last: {agent}\n{p.Logs()}", Pipeline.Deadline);

        Assert.Equal(Pipeline.AgentId, agent.GetProperty("agentId").GetString());
        Assert.Equal(Environment.MachineName, agent.GetProperty("host").GetString());
        Assert.Equal(expectedVersion, agent.GetProperty("version").GetString());
        Assert.Equal(hb.BootId, agent.GetProperty("bootId").GetString());
        Assert.Equal(new Dictionary<string, string> { ["role"] = "web" }, Map(agent.GetProperty("labels"), v => v.GetString()!));
        Assert.Equal(new Dictionary<string, long> { [PolicyName] = Revision }, Map(agent.GetProperty("appliedPolicies"), Int64));
        Assert.False(agent.TryGetProperty("policyErrors", out var errors) && errors.EnumerateObject().Any(), $"policy errors: {errors}");
        var scan = agent.GetProperty("lastScan");
        var reported = JsonSerializer.Deserialize(agent.GetProperty("heartbeatJson").GetString()!, ContractJson.Default.Heartbeat)!;
        var lastScan = reported.LastScan!;
        Assert.Equal(PolicyName, lastScan.Policy);
        Assert.Equal("startup", lastScan.Reason);
        Assert.True(lastScan.Entries >= 2, $"the scan saw the tree and index.html: {lastScan}");
        Assert.Equal(lastScan.Policy, scan.GetProperty("policy").GetString());
        Assert.Equal(lastScan.Reason, scan.GetProperty("reason").GetString());
        Assert.Equal(lastScan.Entries, Int64(scan.GetProperty("entries")));
        Assert.Equal(lastScan.Changes, scan.TryGetProperty("changes", out var changes) ? changes.GetInt32() : 0);
        Assert.Equal(lastScan.Time, scan.GetProperty("time").GetDateTimeOffset());
        Assert.Equal(lastScan.DurationMs, scan.TryGetProperty("durationMs", out var duration) ? duration.GetDouble() : 0);
        Assert.True(agent.GetProperty("lastSeen").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));

        // fimctl agents: one line with the real host name, version, applied revision and labels.
        using var ctl = ChildProcess.Ctl(["agents", "--server", p.Managers[0].GrpcUrl], await p.CtlEnvironmentAsync());
        Assert.True(await ctl.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, ctl.Output);
        var line = Assert.Single(ctl.StdoutLines, l => l.StartsWith(Pipeline.AgentId + " ", StringComparison.Ordinal));
        var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Environment.MachineName, columns[1]);
        Assert.Equal(expectedVersion, columns[2]);
        Assert.Contains($"{PolicyName}@{Revision}", columns);
        Assert.Equal("role=web", columns[^1]);
    }

    /// <summary>An int64 from proto JSON, which may write it as a number or (canonically) as a string.</summary>
    private static long Int64(JsonElement v) =>
        v.ValueKind == JsonValueKind.String ? long.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetInt64();

    private static Dictionary<string, T> Map<T>(JsonElement obj, Func<JsonElement, T> value) =>
        obj.EnumerateObject().ToDictionary(p => p.Name, p => value(p.Value));
}

using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fim.Contracts;
using Fim.Testing;

namespace Fim.EndToEnd.Tests;

/// <summary>
/// JSON-lines sources end to end: a real agent tails files a test writes line by line, through real NATS, a real
/// manager and its store. Nothing lost or twice across agent kills, a NATS outage and rotation; bad lines counted,
/// reported once, and never in the way of the lines after them.
/// </summary>
public sealed class SourcesTests
{
    private static string Policy(string directory, string glob, string format) => $"""
        name: e2e-sources
        sources:
          - path: {directory}/{glob}
            format: {format}
        """;

    private static void Append(string file, string line)
    {
        using var f = new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        f.Write(Encoding.UTF8.GetBytes(line + "\n"));
        f.Flush(flushToDisk: true);
    }

    private static readonly string[] Severities = ["Critical", "High", "Medium", "Low"];

    /// <summary>Finding i: every third passed, the others failed with a severity in turn; its resource names it.</summary>
    private static string Finding(int i, DateTimeOffset at)
    {
        var line = i % 3 == 0
            ? SecuritySamples.ProwlerPass.Replace("arn:aws:iam:us-east-1:123456789012:root", $"arn:aws:iam::123456789012:pass-{i}", StringComparison.Ordinal)
            : SecuritySamples.ProwlerFail(Severities[i % Severities.Length], $"sg-{i}");
        return SecuritySamples.At(line, at);
    }

    private static int LevelOf(string severity) => severity switch { "Critical" => 13, "High" => 11, "Medium" => 8, _ => 5 };

    [Fact]
    public async Task A_Prowler_file_rotated_mid_way_with_the_agent_killed_twice_and_NATS_stopped_gives_each_finding_once()
    {
        await using var p = await Pipeline.StartAsync(managers: 1);
        var dir = Path.Combine(p.Root, "prowler");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "scan.ocsf.json");
        var policy = Policy(dir, "*.ocsf.json", "prowler");
        const int Total = 90;
        var now = DateTimeOffset.UtcNow;
        var written = 0;
        void Write(int until)
        {
            for (; written < until; written++)
            {
                Append(file, Finding(written, now.AddSeconds(written)));
            }
        }

        var agent = await p.StartAgentAsync(policyText: policy);
        Write(20);
        await AwaitEventsAsync(p, 10);
        // 1. Killed while it tails: lines arrive during and after the kill.
        Write(30);
        agent.Kill();
        Write(40);
        // 2. Rotated while the agent is down: the rest of the old file is read first, under its new name.
        File.Move(file, file + ".1");
        Write(50);
        agent = await p.StartAgentAsync(policyText: policy);
        await AwaitEventsAsync(p, 45);
        // 3. NATS stopped: lines wait in the outbox; the agent killed with them there.
        await p.Server.StopAsync();
        Write(70);
        await Eventually.TrueAsync(async () => await p.AgentOutboxDepthAsync() >= 1, () => $"lines in the agent's outbox while NATS is down\n{p.Logs()}");
        agent.Kill();
        Write(80);
        await p.Server.StartAsync();
        agent = await p.StartAgentAsync(policyText: policy);
        Write(Total);

        var events = await p.AwaitEveryEventAlertedAsync(es => Resources(es).Count >= Total, TimeSpan.FromSeconds(120));
        Assert.Equal(Total, events.Count);
        Assert.Equal(Total, Resources(events).Distinct().Count());

        // Every failed finding one alert with its severity's level and resource; passed ones stored, not alerted.
        var alerts = await p.AlertsAsync();
        foreach (var a in alerts.Select(m => m.Body))
        {
            var record = a.GetProperty("record");
            var resource = record.GetProperty("resource").GetString()!;
            var i = int.Parse(resource[(resource.LastIndexOf('-') + 1)..]);
            var tags = a.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ToList();
            if (i % 3 == 0)
            {
                Assert.Equal("PASS", record.GetProperty("status").GetString());
                Assert.Equal("726", a.GetProperty("rule").GetProperty("id").GetString());
                Assert.Contains(Alert.StoredOnlyTag, tags);
            }
            else
            {
                var severity = Severities[i % Severities.Length];
                Assert.Equal(severity, record.GetProperty("severity").GetString());
                Assert.Equal(LevelOf(severity), a.GetProperty("level").GetInt32());
                Assert.EndsWith($"security-group/sg-{i}", resource, StringComparison.Ordinal);
                Assert.DoesNotContain(Alert.StoredOnlyTag, tags);
            }
        }

        // The same through the store: searchable by source, passed ones included.
        using var http = p.AdminHttp();
        var since = Uri.EscapeDataString(now.AddMinutes(-1).ToString("O"));
        var until = Uri.EscapeDataString(now.AddHours(1).ToString("O"));
        await Eventually.TrueAsync(async () =>
            (await http.GetFromJsonAsync<JsonElement>($"{p.Managers[0].RestUrl}/api/v1/alerts?source=prowler&since={since}&until={until}&limit=1000"))
                .GetProperty("alerts").GetArrayLength() == Total, () => $"{Total} Prowler alerts in the store\n{p.Logs()}");
    }

    [Fact]
    public async Task A_malformed_line_a_10_MB_line_binary_garbage_and_a_truncated_file_are_each_counted_reported_once_and_passed()
    {
        await using var p = await Pipeline.StartAsync(managers: 1);
        var dir = Path.Combine(p.Root, "falco");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "events.json");
        var agent = await p.StartAgentAsync(policyText: Policy(dir, "*.json", "falco"));
        var now = DateTimeOffset.UtcNow;
        string Good(int i) => SecuritySamples.At(SecuritySamples.FalcoShadow, now.AddSeconds(i))
            .Replace("cat /etc/shadow", $"cat /etc/shadow #{i}", StringComparison.Ordinal);

        Append(file, Good(1));
        Append(file, "{\"rule\": \"half a line");
        Append(file, Good(2));
        Append(file, "{\"rule\":\"" + new string('x', 10 * 1024 * 1024) + "\"}");
        Append(file, Good(3));
        var garbage = new byte[64 * 1024];
        new Random(19).NextBytes(garbage);
        for (var i = 0; i < garbage.Length; i++)
        {
            garbage[i] = garbage[i] == (byte)'\n' ? (byte)0 : garbage[i];
        }
        using (var f = new FileStream(file, FileMode.Append))
        {
            f.Write(garbage);
            f.WriteByte((byte)'\n');
        }
        Append(file, SecuritySamples.At(SecuritySamples.FalcoCritical, now.AddSeconds(4)));
        Append(file, "[1, 2, 3]");
        Append(file, Good(5));
        await AwaitEventsAsync(p, 5);
        // Truncated (copytruncate) and written again: read from its start.
        using (var f = new FileStream(file, FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite))
        {
        }
        Append(file, Good(6));

        var events = await p.AwaitEveryEventAlertedAsync(es => es.Count >= 6, TimeSpan.FromSeconds(90));
        Assert.Equal(6, events.Count);
        var alerts = (await p.AlertsAsync()).Select(m => m.Body).ToList();
        Assert.Equal(5, alerts.Count(a => a.GetProperty("rule").GetProperty("id").GetString() == "704"));
        var critical = Assert.Single(alerts, a => a.GetProperty("rule").GetProperty("id").GetString() == "702");
        Assert.Equal(13, critical.GetProperty("level").GetInt32());
        Assert.Equal("Drop and execute new binary in container", critical.GetProperty("record").GetProperty("title").GetString());

        // Counted, each occurrence; reported once per file and reason, even though two lines are not JSON.
        var metrics = await MetricsAsync(p);
        Assert.Equal(2, Metric(metrics, "not-json"));
        Assert.Equal(1, Metric(metrics, "too-long"));
        Assert.Equal(1, Metric(metrics, "not-an-object"));
        Assert.Equal(1, Metric(metrics, "truncated"));
        Assert.Equal(6, Metric(metrics, "sent"));
        var log = agent.Output;
        Assert.Equal(1, Reports(log, "not-json"));
        Assert.Equal(1, Reports(log, "too-long"));
        Assert.Equal(1, Reports(log, "truncated"));
        // The report names the place, never the line's content.
        Assert.DoesNotContain("xxxxxxxx", log, StringComparison.Ordinal);
        Assert.DoesNotContain("half a line", log, StringComparison.Ordinal);
    }

    private static List<string> Resources(IEnumerable<StreamMessage> events) =>
        [.. events.Select(e => e.Body.GetProperty("record").GetProperty("resource").GetString()!)];

    private static Task AwaitEventsAsync(Pipeline p, int count) =>
        Eventually.TrueAsync(async () => (await p.EventsAsync()).Count >= count, () => $"{count} events in FIM_EVENTS\n{p.Logs()}", TimeSpan.FromSeconds(60));

    private static async Task<string> MetricsAsync(Pipeline p)
    {
        using var http = new HttpClient();
        return await http.GetStringAsync($"http://127.0.0.1:{p.AgentMetricsPort}/metrics");
    }

    private static double Metric(string metrics, string result) =>
        metrics.Split('\n').Where(l => l.StartsWith("fim_agent_source_lines_total{", StringComparison.Ordinal) && l.Contains($"result=\"{result}\"", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Log lines that report <paramref name="reason"/> (the tailer's "reported once" warnings).</summary>
    private static int Reports(string log, string reason) =>
        log.Split('\n').Count(l => l.Contains("reported once", StringComparison.Ordinal) && l.Contains(reason, StringComparison.Ordinal));
}

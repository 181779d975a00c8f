using System.Text;
using System.Text.Json;
using Fim.Agent.Tests.Support;

namespace Fim.Agent.Tests.Cli;

/// <summary>Issue 14 through the real fim-agent: diffs in printed alerts, append-only logs, flapping in watch.</summary>
public sealed class ContentCliTests : IDisposable
{
    private readonly TempTree _t = new("content");

    public void Dispose() => _t.Dispose();

    private string Policy(string yaml)
    {
        var file = Path.Combine(_t.Root, "policy.yaml");
        File.WriteAllText(file, yaml);
        return file;
    }

    private Fim.Testing.ProcessResult Scan(string policy) => Fim.Agent.Tests.Support.CliRunner.Run(["scan", "--policy", policy, "--json", .. _t.StateArgs]);

    private static JsonElement Line(Fim.Testing.ProcessResult r, string path)
    {
        foreach (var line in r.StdoutLines)
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.GetProperty("path").GetString() == path)
            {
                return doc.RootElement.Clone();
            }
        }
        throw new Xunit.Sdk.XunitException($"no alert for {path}:\n{r}");
    }

    [Fact]
    public void Scan_alerts_carry_the_diff_of_a_config_file_and_none_for_a_secret_which_leaves_no_copy()
    {
        var config = _t.Write("etc/app.conf", string.Concat(Enumerable.Range(1, 50).Select(i => $"key{i} = {i}\n")));
        var shadow = _t.Write("etc/shadow", "root:$6$old-hash:19000:0:99999:7:::\n");
        var policy = Policy($"name: diffs\npaths:\n  - path: {_t.Tree}\n    reportDiffs: true\n");
        Assert.Equal(0, Scan(policy).ExitCode);

        File.WriteAllText(config, string.Concat(Enumerable.Range(1, 50).Select(i => i == 25 ? "key25 = changed\n" : $"key{i} = {i}\n")));
        File.WriteAllText(shadow, "root:$6$new-hash:19001:0:99999:7:::\n");
        var r = Scan(policy);

        var changed = Line(r, config);
        var diff = changed.GetProperty("diff").GetString()!;
        Assert.Contains("-key25 = 25\n+key25 = changed\n", diff);
        Assert.DoesNotContain("key10 ", diff);
        Assert.Equal("included", changed.GetProperty("diffInfo").GetProperty("status").GetString());

        var secret = Line(r, shadow);
        Assert.False(secret.TryGetProperty("diff", out _));
        Assert.Equal("nodiff", secret.GetProperty("diffInfo").GetProperty("reason").GetString());
        var copies = Directory.EnumerateFiles(_t.State, "*", SearchOption.AllDirectories).Where(f => f.Contains("/diffs/")).ToList();
        Assert.Single(copies); // the config file's, never the shadow file's
        Assert.All(copies, f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
        foreach (var file in Directory.EnumerateFiles(_t.State, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain("hash:1900", File.ReadAllText(file, Encoding.Latin1));
        }
    }

    [Fact]
    public void Scan_ignores_appends_to_a_growing_log_and_raises_a_truncation_high()
    {
        var log = _t.Write("log/audit.log", "line 1\n");
        var policy = Policy($"name: logs\npaths:\n  - path: {_t["log"]}\n    check: [growing, mode, uid, gid]\n");
        Assert.Equal(0, Scan(policy).ExitCode);

        File.AppendAllText(log, string.Concat(Enumerable.Range(2, 1000).Select(i => $"line {i}\n")));
        var appended = Scan(policy);
        Assert.True(appended.ExitCode == 0, appended.ToString());
        Assert.DoesNotContain(appended.StdoutLines, l => l.Contains("audit.log"));

        using (var f = new FileStream(log, FileMode.Open, FileAccess.Write))
        {
            f.SetLength(100);
        }
        var truncated = Line(Scan(policy), log);
        Assert.Equal("append-violation", truncated.GetProperty("kind").GetString());
        Assert.Equal("truncated", truncated.GetProperty("growth").GetProperty("verdict").GetString());
        Assert.Equal(11, truncated.GetProperty("level").GetInt32());
    }

    [Fact]
    public void Watch_reports_a_flapping_file_once_more_with_a_count_and_tags_it()
    {
        var file = _t.Write("etc/resolv.conf", "nameserver 10.0.0.0\n");
        var policy = Policy($"name: flaps\npaths:\n  - path: {_t.Tree}\nflapping:\n  changes: 2\n  window: 1h\n");
        using var agent = new AgentProcess(["watch", "--policy", policy, "--json", .. _t.StateArgs]);
        agent.AwaitLog("realtime detection on");

        // One write can be seen as one change or two (truncate, then write): write until the threshold is crossed.
        JsonElement flapping = default;
        for (var i = 1; i <= 10; i++)
        {
            File.WriteAllText(file, $"nameserver 10.0.0.{i}\n");
            var alert = agent.AwaitAlert(file, kind: "modified");
            if (alert.TryGetProperty("flapping", out _))
            {
                flapping = alert;
                break;
            }
            Assert.True(i <= 2, "two changes in the window are not flapping yet, but a third must be");
        }

        Assert.Equal("started", flapping.GetProperty("flapping").GetProperty("state").GetString());
        Assert.Equal(3, flapping.GetProperty("flapping").GetProperty("changes").GetInt32()); // "more than 2" is the third
        Assert.Contains("flapping", flapping.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }
}

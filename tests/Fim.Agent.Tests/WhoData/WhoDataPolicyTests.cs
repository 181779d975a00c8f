using System.Text.Json;
using Fim.Agent.Tests.Support;
using Fim.Testing;

namespace Fim.Agent.Tests.WhoData;

/// <summary>The policy's whoData switches do what docs/policy.md says, and a capped agent says what it runs on.</summary>
[Collection(WhoDataCollection.Name)]
public sealed class WhoDataPolicyTests : IDisposable
{
    private readonly TempTree _t = new("whopol");

    [Fact]
    public void CommandLine_false_leaves_the_command_line_out_and_keeps_the_rest()
    {
        var actor = ActorOfOneWrite("whoData:\n  commandLine: false\n", out _);
        Assert.False(actor.TryGetProperty("commandLine", out _));
        Assert.Equal(ChildProcess.Run("realpath", ["/bin/sh"]).Stdout.Trim(), actor.GetProperty("executable").GetString());
        Assert.Equal(0u, actor.GetProperty("uid").GetUInt32());
    }

    [Fact]
    public void With_the_command_line_on_it_is_the_writers_arguments()
    {
        var actor = ActorOfOneWrite("", out var file);
        Assert.Equal($"/bin/sh -c echo $$ >> \"$1\" sh {file}", actor.GetProperty("commandLine").GetString());
    }

    [Fact]
    public void Enabled_false_runs_on_inotify_and_names_nobody()
    {
        var alert = AlertOfOneWrite("whoData:\n  enabled: false\n", out _, out var agent);
        using (agent)
        {
            Assert.False(alert.TryGetProperty("actor", out _));
            Assert.Contains("whoData.enabled: false", agent.Stderr);
        }
    }

    [Fact]
    public void Capped_at_fanotify_with_proc_it_says_so_and_never_guesses_an_exited_writer()
    {
        _t.Write("a.conf", "");
        using var agent = CliRunner.Start(["watch", _t.Tree, "--json", "--who-data", "fanotify-proc", .. _t.StateArgs]);
        agent.AwaitLog("realtime detection on", TimeSpan.FromSeconds(60));
        Assert.Contains("fanotify-proc", agent.Stderr);

        ChildProcess.Run("/bin/sh", ["-c", "echo $$ >> \"$1\"", "sh", _t["a.conf"]]).EnsureSuccess();
        var alert = AwaitAlert(agent, _t["a.conf"]);
        var actor = alert.GetProperty("actor");
        // Read live it is named; gone before the read it is unknown: both are honest, a wrong name is not.
        if (actor.TryGetProperty("unknown", out var unknown))
        {
            Assert.Equal("exited-before-read", unknown.GetString());
        }
        else
        {
            Assert.Equal(int.Parse(File.ReadAllText(_t["a.conf"]).Trim()), actor.GetProperty("pid").GetInt32());
        }
    }

    private JsonElement ActorOfOneWrite(string policyExtra, out string file)
    {
        var alert = AlertOfOneWrite(policyExtra, out file, out var agent);
        using (agent)
        {
            return alert.GetProperty("actor").Clone();
        }
    }

    private JsonElement AlertOfOneWrite(string policyExtra, out string file, out ChildProcess agent)
    {
        file = _t.Write("a.conf", "");
        var policy = Path.Combine(_t.Root, "policy.yaml");
        File.WriteAllText(policy, $"name: who\npaths:\n  - path: {_t.Tree}\n{policyExtra}");
        agent = CliRunner.Start(["watch", "--policy", policy, "--json", .. _t.StateArgs]);
        agent.AwaitLog("realtime detection on", TimeSpan.FromSeconds(60));
        ChildProcess.Run("/bin/sh", ["-c", "echo $$ >> \"$1\"", "sh", file]).EnsureSuccess();
        return AwaitAlert(agent, file);
    }

    private static JsonElement AwaitAlert(ChildProcess agent, string path)
    {
        JsonElement found = default;
        agent.AwaitOutput((stdout, _) =>
        {
            foreach (var line in stdout.Where(l => l.Length > 0))
            {
                var e = JsonDocument.Parse(line).RootElement;
                if (e.GetProperty("path").GetString() == path)
                {
                    found = e.Clone();
                    return true;
                }
            }
            return false;
        }, () => $"an alert for {path}", TimeSpan.FromSeconds(30));
        return found;
    }

    public void Dispose() => _t.Dispose();
}

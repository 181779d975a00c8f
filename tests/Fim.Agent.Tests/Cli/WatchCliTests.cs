using Fim.Agent.Tests.Support;

namespace Fim.Agent.Tests.Cli;

public sealed class WatchCliTests : IDisposable
{
    private readonly TempTree _t = new("watch");

    [Fact]
    public void A_change_in_the_watched_directory_prints_a_realtime_alert()
    {
        _t.Write("config/app.conf", "a=1\n");
        using var agent = new AgentProcess(["watch", _t.Tree, "--json", .. _t.StateArgs]);
        agent.AwaitLog("realtime detection on");

        File.WriteAllText(_t["config/app.conf"], "a=2\n");
        var alert = agent.AwaitAlert(_t["config/app.conf"], kind: "modified");

        // Detected by the watcher, not by a later rescan; how fast is measured by bench/realtime.sh, not asserted here.
        Assert.Equal("realtime", alert.GetProperty("source").GetString());
        Assert.Equal("550", alert.GetProperty("rule").GetProperty("id").GetString());
    }

    [Fact]
    public void Files_in_a_new_directory_and_a_replaced_file_keep_being_reported()
    {
        _t.Write("keep.txt", "1");
        using var agent = new AgentProcess(["watch", _t.Tree, "--json", .. _t.StateArgs]);
        agent.AwaitLog("realtime detection on");

        Directory.CreateDirectory(_t["new/deeper"]);
        File.WriteAllText(_t["new/deeper/f.txt"], "f");
        agent.AwaitAlert(_t["new/deeper/f.txt"], kind: "added");
        File.WriteAllText(_t["new/deeper/f.txt"], "changed");
        agent.AwaitAlert(_t["new/deeper/f.txt"], kind: "modified");

        for (var i = 0; i < 2; i++)
        {
            var tmp = _t[$"keep.tmp{i}"];
            File.WriteAllText(tmp, $"replacement {i}");
            File.Move(tmp, _t["keep.txt"], overwrite: true);
            agent.AwaitAlert(_t["keep.txt"], kind: "modified");
        }
    }

    [Fact]
    public void Changes_made_while_the_agent_was_stopped_are_reported_when_it_starts()
    {
        _t.Write("a.txt", "a");
        _t.Write("b.txt", "b");
        Assert.Equal(0, CliRunner.Run(["scan", _t.Tree, "--json", .. _t.StateArgs]).ExitCode);
        File.WriteAllText(_t["a.txt"], "changed while stopped");
        File.Delete(_t["b.txt"]);

        using var agent = new AgentProcess(["watch", _t.Tree, "--json", .. _t.StateArgs]);

        agent.AwaitAlert(_t["a.txt"], kind: "modified");
        agent.AwaitAlert(_t["b.txt"], kind: "deleted");
    }

    public void Dispose() => _t.Dispose();
}

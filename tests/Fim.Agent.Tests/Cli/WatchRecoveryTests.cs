using Fim.Agent.Tests.Realtime;
using Fim.Agent.Tests.Support;
using Fim.Testing;

namespace Fim.Agent.Tests.Cli;

/// <summary>The agent end to end where the kernel cannot keep up: nothing is lost, and it says so.</summary>
[Collection(InotifyCollection.Name)]
public sealed class WatchRecoveryTests : IDisposable
{
    private readonly TempTree _t = new("recover");

    [Fact]
    public void After_an_inotify_queue_overflow_every_change_is_still_reported_and_the_overflow_is_logged()
    {
        _t.Write("seed.txt", "s");
        AgentProcess agent;
        // The queue size is fixed when the agent creates its inotify instance: a tiny one overflows at once. The value is
        // host-wide, so it is put back as soon as the agent has its instance.
        using (Sysctl.Set("fs/inotify/max_queued_events", 16))
        {
            // inotify's overflow is under test: run on inotify, not on fanotify (which root would get by default).
            agent = new AgentProcess(["watch", _t.Tree, "--json", "--who-data", "inotify", .. _t.StateArgs]);
            InotifyInstances.AwaitIn(agent.Id);
        }
        agent.AwaitLog("realtime detection on");
        using (agent)
        {
            // The agent watches the burst's directory (it reported a file there), then is stopped while the burst is
            // written, so its queue overflows however fast it would have read (on a busy machine the writer was slowed
            // enough for the agent to keep up, and nothing overflowed).
            _t.Write("burst/first.txt", "f");
            agent.AwaitAlert(_t["burst/first.txt"], kind: "added");
            ChildProcess.Run("kill", ["-STOP", agent.Id.ToString()]).EnsureSuccess();
            try
            {
                for (var i = 0; i < 300; i++)
                {
                    _t.Write($"burst/f{i:D3}.txt", i.ToString());
                }
            }
            finally
            {
                ChildProcess.Run("kill", ["-CONT", agent.Id.ToString()]).EnsureSuccess();
            }
            for (var i = 0; i < 300; i++)
            {
                agent.AwaitAlert(_t[$"burst/f{i:D3}.txt"], kind: "added");
            }
            agent.AwaitLog("overflow");
        }
    }

    [Fact]
    public void Policy_nice_and_idle_io_class_apply_to_every_thread_of_the_agent()
    {
        var policy = Path.Combine(_t.Root, "p.yaml");
        File.WriteAllText(policy, $"paths:\n  - path: {_t.Tree}\nthrottle:\n  nice: 15\n  ioClass: idle\n");
        using var agent = new AgentProcess(["watch", "--policy", policy, "--json", .. _t.StateArgs]);
        agent.AwaitLog("realtime detection on");

        foreach (var task in Directory.GetDirectories($"/proc/{agent.Id}/task"))
        {
            var stat = File.ReadAllText(Path.Combine(task, "stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            Assert.Equal("15", fields[16]); // field 19 of /proc/[pid]/stat, counted after "pid (comm)"
        }
        Assert.Contains("idle", ChildProcess.Run("ionice", ["-p", agent.Id.ToString()]).EnsureSuccess().Stdout);
    }

    public void Dispose() => _t.Dispose();
}

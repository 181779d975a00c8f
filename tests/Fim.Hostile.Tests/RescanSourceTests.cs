using System.Text.Json;
using Fim.Hostile.Tests.Support;

namespace Fim.Hostile.Tests;

/// <summary>
/// Case 10 (event source): after an inotify queue overflow the agent rescans; what that rescan finds was found by a
/// scan, and the events must say `source: scan` (the contract's values are scan and realtime), not realtime.
/// </summary>
[Collection(SysctlCollection.Name)]
public sealed class RescanSourceTests : IDisposable
{
    private readonly Sandbox _s = new("overflow");

    [Fact]
    public void Changes_found_by_an_overflow_rescan_say_source_scan()
    {
        _s.Write("seed.txt", "s");
        // The burst goes into a directory watched from the start: in one created meanwhile, the catch-up scan of the new
        // directory (realtime) would find every file the test wrote before the agent read the directory's creation.
        Directory.CreateDirectory(_s["burst"]);
        Fim.Testing.ChildProcess agent;
        // The queue size is fixed when the agent creates its inotify instance: a tiny one overflows at once. The value is
        // host-wide, so it is put back as soon as the agent has its instance.
        using (Fim.Testing.Sysctl.Set("fs/inotify/max_queued_events", 16))
        {
            // inotify's overflow is under test: run on inotify, not on fanotify (which root would get by default).
            agent = AgentCli.Start(["watch", _s.Tree, "--json", "--who-data", "inotify", .. _s.StateArgs]);
            Fim.Testing.InotifyInstances.AwaitIn(agent.Id);
        }
        agent.AwaitLog("realtime detection on", AgentCli.Timeout);
        using (agent)
        {
            // The agent is stopped while the burst is written, so its 16-event queue surely overflows and most files' events
            // are lost (running, a fast agent on a busy machine could keep up with the writer and lose none of a file).
            const int files = 300;
            agent.Pause();
            try
            {
                for (var i = 0; i < files; i++)
                {
                    _s.Write($"burst/f{i:D3}.txt", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            finally
            {
                agent.Resume();
            }
            var sources = new Dictionary<string, string>();
            agent.AwaitOutput((stdout, _) =>
            {
                foreach (var line in stdout)
                {
                    using var doc = JsonDocument.Parse(line);
                    sources[doc.RootElement.GetProperty("path").GetString()!] = doc.RootElement.GetProperty("source").GetString()!;
                }
                return Enumerable.Range(0, files).All(i => sources.ContainsKey(_s[$"burst/f{i:D3}.txt"]));
            }, () => $"alerts for all {files} files", AgentCli.Timeout);
            agent.AwaitLog("overflow", AgentCli.Timeout);

            Assert.Contains("scan", sources.Values);
            Assert.All(sources.Values, s => Assert.Contains(s, new[] { "scan", "realtime" }));
        }
    }

    public void Dispose() => _s.Dispose();
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SysctlCollection
{
    public const string Name = "inotify sysctl";
}

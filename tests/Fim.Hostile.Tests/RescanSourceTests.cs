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
    private const string QueueSysctl = "/proc/sys/fs/inotify/max_queued_events";
    private const int KernelDefaultQueue = 16384;
    private readonly Sandbox _s = new("overflow");

    [Fact]
    public void Changes_found_by_an_overflow_rescan_say_source_scan()
    {
        _s.Write("seed.txt", "s");
        var original = File.ReadAllText(QueueSysctl).Trim();
        // Another suite may be inside the same trick right now; never put a tiny value back.
        if (int.Parse(original, System.Globalization.CultureInfo.InvariantCulture) < 1024)
        {
            original = KernelDefaultQueue.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        Fim.Testing.ChildProcess agent;
        try
        {
            // The queue size is fixed when the agent creates its inotify instance: a tiny one overflows at once.
            File.WriteAllText(QueueSysctl, "16");
            agent = AgentCli.Start(["watch", _s.Tree, "--json", .. _s.StateArgs]);
            agent.AwaitLog("realtime detection on", AgentCli.Timeout);
        }
        finally
        {
            File.WriteAllText(QueueSysctl, original);
        }
        using (agent)
        {
            const int files = 300;
            for (var i = 0; i < files; i++)
            {
                _s.Write($"burst/f{i:D3}.txt", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
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

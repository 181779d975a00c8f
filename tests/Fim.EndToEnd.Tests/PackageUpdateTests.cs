using System.Text.Json;
using Fim.Contracts;
using Fim.Testing;

namespace Fim.EndToEnd.Tests;

/// <summary>
/// Issue 14, acceptance 1 (dpkg): real dpkg installs packages into a test root the agent monitors as its host root,
/// and the real manager judges the events. An upgrade is one batch of low-level package-update alerts; a packaged
/// file changed behind dpkg's back is one high-level alert.
/// </summary>
public sealed class PackageUpdateTests
{
    private const int HumanLevel = 7;

    [Fact]
    public async Task An_upgrade_is_tagged_package_update_and_a_packaged_file_changed_outside_dpkg_is_one_high_level_alert()
    {
        Assert.True(DpkgTestRoot.Available, "dpkg and dpkg-deb are needed (Debian's dpkg package)");
        await using var p = await Pipeline.StartAsync(managers: 1);
        var dpkg = new DpkgTestRoot(Path.Combine(p.Root, "host"), Path.Combine(p.Root, "debs"));
        var trueBinary = File.ReadAllBytes("/usr/bin/true");
        var v1 = dpkg.Build("fimtest", "1.0", new Dictionary<string, byte[]>
        {
            ["/usr/bin/fimtest"] = trueBinary,
            ["/usr/share/fimtest/data.txt"] = "data of 1.0\n"u8.ToArray(),
            ["/usr/share/fimtest/only-in-1.0.txt"] = "gone in 2.0\n"u8.ToArray(),
            ["/usr/share/doc/fimtest/README"] = "unchanged between versions\n"u8.ToArray(),
        });
        var v2 = dpkg.Build("fimtest", "2.0", new Dictionary<string, byte[]>
        {
            // A different binary of the same program: 2.0 appends a marker section.
            ["/usr/bin/fimtest"] = [.. trueBinary, .. "fimtest 2.0"u8],
            ["/usr/share/fimtest/data.txt"] = "data of 2.0\n"u8.ToArray(),
            ["/usr/share/fimtest/only-in-2.0.txt"] = "new in 2.0\n"u8.ToArray(),
            ["/usr/share/doc/fimtest/README"] = "unchanged between versions\n"u8.ToArray(),
        });
        var tool = dpkg.Build("fimtool", "3.1", new Dictionary<string, byte[]> { ["/usr/bin/fimtool"] = File.ReadAllBytes("/usr/bin/false") });
        dpkg.Install(v1, tool);
        Assert.Equal("1.0", dpkg.InstalledVersion("fimtest"));

        await p.StartAgentAsync(policyPaths: ["/usr"], extraConfig: $"hostRoot: {dpkg.Root}");

        // The upgrade, while the agent watches.
        dpkg.Install(v2);
        Assert.Equal("2.0", dpkg.InstalledVersion("fimtest"));
        string[] upgraded = ["/usr/bin/fimtest", "/usr/share/fimtest/data.txt", "/usr/share/fimtest/only-in-2.0.txt", "/usr/share/fimtest/only-in-1.0.txt"];
        var upgradeEvents = await p.AwaitEveryEventAlertedAsync(events => upgraded.All(Pipeline.Paths(events).Contains));
        var upgradeAlerts = await p.AlertsAsync();
        Assert.NotEmpty(upgradeAlerts);
        foreach (var a in upgradeAlerts)
        {
            var what = $"{a.Kind} {a.Path}: {a.Body}\n{p.Logs()}";
            Assert.True(Tags(a).Contains("package-update"), what);
            Assert.True(a.Body.GetProperty("level").GetInt32() < HumanLevel, what);
            var package = a.Body.GetProperty("package");
            Assert.Equal("dpkg", package.GetProperty("manager").GetString());
            Assert.Equal("fimtest", package.GetProperty("name").GetString());
            Assert.Equal("1.0", package.GetProperty("versionBefore").GetString());
            Assert.Equal("2.0", package.GetProperty("versionAfter").GetString());
            Assert.True(package.GetProperty("verified").GetBoolean(), what);
        }
        Assert.Contains(upgradeAlerts, a => a.Path == "/usr/bin/fimtest" && a.Kind == "modified");
        Assert.Contains(upgradeAlerts, a => a.Path == "/usr/share/fimtest/only-in-1.0.txt" && a.Kind == "deleted");

        // Appended to behind dpkg's back.
        var fimtest = dpkg.At("/usr/bin/fimtest");
        await File.AppendAllTextAsync(fimtest, "x\n");
        var high = await AwaitHighAlertsAsync(p, "/usr/bin/fimtest", 1, upgradeEvents.Count);
        Assert.Equal("571", high.GetProperty("rule").GetProperty("id").GetString());
        Assert.False(high.GetProperty("package").GetProperty("verified").GetBoolean());
        Assert.Equal("fimtest", high.GetProperty("package").GetProperty("name").GetString());
        Assert.Contains("outside the package manager", high.GetProperty("rule").GetProperty("description").GetString());

        // Replaced by a copy of another packaged binary (put in place by rename, as an installer would). The events are
        // counted before the change: counted after, the change's own event may already be among them.
        var events = (await p.EventsAsync()).Count;
        var staged = Path.Combine(dpkg.Root, "replacement");
        File.Copy(dpkg.At("/usr/bin/fimtool"), staged);
        File.Move(staged, fimtest, overwrite: true);
        var second = await AwaitHighAlertsAsync(p, "/usr/bin/fimtest", 2, events);
        Assert.Equal("571", second.GetProperty("rule").GetProperty("id").GetString());
        Assert.Equal("fimtest", second.GetProperty("package").GetProperty("name").GetString());

        // Nothing else reached a human: two tampered files, two alerts of level 7 or more.
        var all = await p.AlertsAsync();
        Assert.Equal(2, all.Count(a => a.Body.GetProperty("level").GetInt32() >= HumanLevel));
    }

    /// <summary>Waits until the path has <paramref name="count"/> alerts of level 7 or more and the pipeline is whole; returns the last.</summary>
    private static async Task<JsonElement> AwaitHighAlertsAsync(Pipeline p, string path, int count, int eventsBefore)
    {
        await p.AwaitEveryEventAlertedAsync(events => events.Count > eventsBefore && events.Skip(eventsBefore).Any(e => e.Path == path));
        List<StreamMessage> high = [];
        await Eventually.TrueAsync(async () =>
        {
            high = [.. (await p.AlertsAsync()).Where(a => a.Path == path && a.Body.GetProperty("level").GetInt32() >= HumanLevel)];
            return high.Count >= count;
        }, $"{count} high-level alerts for {path}");
        Assert.Equal(count, high.Count);
        return high[^1].Body;
    }

    private static HashSet<string> Tags(StreamMessage alert) =>
        [.. alert.Body.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)];
}

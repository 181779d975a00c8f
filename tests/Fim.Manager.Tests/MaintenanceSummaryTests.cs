using Fim.Contracts;
using Fim.Manager.Maintenance;

namespace Fim.Manager.Tests;

/// <summary>The summary of a node's hold-off: counts by kind, most-changed paths, and its one line for the webhook.</summary>
public sealed class MaintenanceSummaryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    private static Alert A(string path, string kind, int ruleLevel = 7, string agent = "node-a") => Alert.For(new FileEvent
    {
        EventId = Guid.NewGuid().ToString("N"),
        AgentId = agent,
        Host = agent,
        Path = path,
        Kind = kind,
        Source = "realtime",
        ObservedAt = T0,
    }, new RuleRef { Id = "550", Level = ruleLevel }, Math.Max(1, ruleLevel - 5), [], []);

    private static MaintenanceWindow Window() => new()
    {
        Id = "mw-0123456789ab",
        Start = T0,
        End = T0.AddDays(7),
        EndedAt = T0.AddMinutes(25).AddSeconds(13),
        Reason = "node node-a cordoned",
        Node = "node-a",
        AgentIds = ["node-a"],
        OnEnd = MaintenanceWindow.OnEndSummary,
    };

    [Fact]
    public void Counts_by_kind_and_the_most_changed_paths_make_one_line_and_details()
    {
        var alerts = new List<Alert>
        {
            A("/usr/bin/curl", "modified"), A("/usr/bin/curl", "attributes"), A("/usr/bin/curl", "modified", ruleLevel: 10),
            A("/usr/lib/libcurl.so.4", "modified"), A("/usr/lib/libcurl.so.4", "modified"),
            A("/usr/share/doc/curl/changelog.gz", "added"), A("/usr/lib/old.so", "deleted"),
        };
        alerts.AddRange(Enumerable.Range(0, 12).Select(i => A($"/usr/share/man/page-{i:00}.gz", "added")));
        var n = MaintenanceSummary.Of(alerts).ToNotification(Window(), T0.AddMinutes(26));

        Assert.Equal(Notification.MaintenanceSummary, n.Kind);
        Assert.Equal("maintenance-summary:mw-0123456789ab", n.Id); // the message id: managers racing store it once
        Assert.Equal("node/node-a", n.Regarding);
        Assert.Equal("FIM: Node node-a back from maintenance (node node-a cordoned), 2026-12-03 10:00:00Z to 2026-12-03 10:25:13Z (25m13s): " +
            "19 changes (added 13, modified 4, attributes 1, deleted 1) on node-a; highest rule level 10; top paths: /usr/bin/curl (3), " +
            "/usr/lib/libcurl.so.4 (2), /usr/lib/old.so (1), /usr/share/doc/curl/changelog.gz (1), /usr/share/man/page-00.gz (1), " +
            "/usr/share/man/page-01.gz (1), /usr/share/man/page-02.gz (1), /usr/share/man/page-03.gz (1), /usr/share/man/page-04.gz (1), " +
            "/usr/share/man/page-05.gz (1)", n.Text);
        Assert.Equal("13", n.Details!["kind.added"]);
        Assert.Equal("19", n.Details["alerts"]);
        Assert.Equal("node-a", n.Details["node"]);
        Assert.StartsWith("3 /usr/bin/curl\n2 /usr/lib/libcurl.so.4\n", n.Details["topPaths"]);
    }

    [Fact]
    public void A_hold_off_without_changes_still_says_the_node_came_back()
    {
        var n = MaintenanceSummary.Of([]).ToNotification(Window(), T0.AddMinutes(26));
        Assert.Equal("FIM: Node node-a back from maintenance (node node-a cordoned), 2026-12-03 10:00:00Z to 2026-12-03 10:25:13Z (25m13s): no changes", n.Text);
        Assert.Equal("0", n.Details!["alerts"]);
    }
}

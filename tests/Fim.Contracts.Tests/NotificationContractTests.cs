namespace Fim.Contracts.Tests;

/// <summary>The node hold-off's window fields and the notifications' names (their golden files are in GoldenTests).</summary>
public sealed class NotificationContractTests
{
    [Fact]
    public void A_window_with_agent_ids_covers_only_those_agents()
    {
        var w = new MaintenanceWindow { AgentIds = ["node-a"], MatchLabels = new() { ["role"] = "web" } };
        var web = new Dictionary<string, string> { ["role"] = "web" };
        Assert.True(w.Covers("node-a", web));
        Assert.False(w.Covers("node-b", web));
        Assert.False(w.Covers("node-a", new Dictionary<string, string>()));
        Assert.True(new MaintenanceWindow { MatchLabels = new() { ["role"] = "web" } }.Covers("node-b", web));
    }

    [Fact]
    public void Notification_subjects_are_under_the_stream_subjects() =>
        Assert.StartsWith(Notification.AllSubjects.TrimEnd('>'), Notification.Subject(Notification.MaintenanceSummary));
}

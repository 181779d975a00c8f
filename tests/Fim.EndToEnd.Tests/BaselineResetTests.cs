using Fim.Testing;

namespace Fim.EndToEnd.Tests;

/// <summary>
/// Issue 11, case 1, connected: the agent's state directory deleted while it was stopped. It does not stop monitoring
/// and does not start over silently either: the new baseline travels with a baseline-reset event, which the managers'
/// default rule raises as a level 12 alert.
/// </summary>
public sealed class BaselineResetTests
{
    [Fact]
    public async Task A_deleted_state_directory_becomes_a_high_level_baseline_reset_alert()
    {
        await using var p = await Pipeline.StartAsync(managers: 1);
        File.WriteAllText(Path.Combine(p.Tree, "app.conf"), "port=80\n");
        var first = await p.StartAgentAsync();
        first.Terminate();
        Assert.Equal(143, await first.WaitForExitAsync(Pipeline.Deadline));
        Assert.Contains("stopped by SIGTERM", first.Stderr);
        Directory.Delete(Path.Combine(p.Root, "state"), recursive: true);

        var second = await p.StartAgentAsync();

        var events = await p.AwaitEveryEventAlertedAsync(es => es.Any(e => e.Kind == "baseline-reset"));
        var reset = Assert.Single(events, e => e.Kind == "baseline-reset");
        Assert.Equal("missing", reset.Body.GetProperty("reset").GetProperty("reason").GetString());
        Assert.Equal(Path.Combine(p.Root, "state", "_local"), reset.Path);
        var alert = Assert.Single(await p.AlertsAsync(), a => a.EventId == reset.EventId);
        Assert.Equal(12, alert.Body.GetProperty("level").GetInt32());
        Assert.Equal("559", alert.Body.GetProperty("rule").GetProperty("id").GetString());
        Assert.StartsWith("fim.alerts.12.", alert.Subject);
        Assert.Contains("recording a new one and reporting the reset", second.Stderr);
    }
}

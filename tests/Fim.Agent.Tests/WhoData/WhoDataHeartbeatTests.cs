using Fim.Agent.Tests.Connected;
using Fim.Contracts;

namespace Fim.Agent.Tests.WhoData;

/// <summary>The connected agent reports each policy's who-data source in its heartbeat.</summary>
[Collection(WhoDataCollection.Name)]
public sealed class WhoDataHeartbeatTests
{
    [Fact]
    public async Task The_heartbeat_says_which_who_data_source_each_policy_runs_on()
    {
        await using var h = await ConnectedHarness.StartAsync("whohb");
        h.Tree.Write("etc/a.conf", "1");
        h.WriteConfig(policyFile: h.WritePolicy("local-etc", h.Tree["etc"]));
        var agent = h.StartAgent();

        var hb = await h.AwaitHeartbeatAsync(x => x.WhoData?.ContainsKey("local-etc") == true, () => agent.Stderr);

        // The tests run as root on a kernel with fanotify and BTF: the best source, and no reason given.
        Assert.Equal(new WhoDataStatus(WhoDataStatus.Fanotify, null), hb.WhoData!["local-etc"]);
    }
}

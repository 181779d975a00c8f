using Fim.Testing;
using System.Collections.Concurrent;
using Fim.Testing.KubeApi.Tests.Support;
using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using static Fim.Testing.KubeApi.Tests.Support.TestServer;

namespace Fim.Testing.KubeApi.Tests;

/// <summary>k8s.LeaderElection with a LeaseLock against the double.</summary>
public sealed class LeaderElectionTests
{
    [Fact]
    public async Task Two_electors_elect_one_leader_and_the_other_takes_over_when_it_stops()
    {
        await using var server = await StartAsync();
        var leaseDuration = TimeSpan.FromSeconds(2);
        var leaders = new ConcurrentQueue<(string Identity, DateTime At)>();
        var (clientA, clientB) = (server.CreateClient(), server.CreateClient());
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();
        var electorA = Elector(clientA, "a");
        var electorB = Elector(clientB, "b");
        var runA = Task.Run(() => electorA.RunUntilLeadershipLostAsync(stopA.Token));
        var runB = Task.Run(() => electorB.RunUntilLeadershipLostAsync(stopB.Token));
        try
        {
            await Eventually.TrueAsync(() => leaders.Count >= 1, "a first leader");
            var first = leaders.First().Identity;

            // Several renewals later there is still exactly one leader and it is the same one (letting them pass is the point).
            var until = DateTime.UtcNow + (leaseDuration * 1.5);
            await Eventually.TrueAsync(() => DateTime.UtcNow > until, "1.5 lease durations to pass");
            Assert.Single(leaders);
            Assert.Equal(first == "a", electorA.IsLeader());
            Assert.Equal(first == "b", electorB.IsLeader());
            var lease = await clientA.CoordinationV1.ReadNamespacedLeaseAsync("fim-operator", "default");
            Assert.Equal(first, lease.Spec.HolderIdentity);

            await (first == "a" ? stopA : stopB).CancelAsync();
            await Eventually.TrueAsync(() => leaders.Count == 2, "the follower to take over");
            var (second, _) = leaders.Last();
            Assert.NotEqual(first, second);
            lease = await clientA.CoordinationV1.ReadNamespacedLeaseAsync("fim-operator", "default");
            Assert.Equal(second, lease.Spec.HolderIdentity);
            Assert.Equal(1, lease.Spec.LeaseTransitions);
        }
        finally
        {
            await stopA.CancelAsync();
            await stopB.CancelAsync();
            await Task.WhenAll(Quietly(runA), Quietly(runB));
            clientA.Dispose();
            clientB.Dispose();
        }

        LeaderElector Elector(Kubernetes client, string identity)
        {
            var elector = new LeaderElector(new LeaderElectionConfig(new LeaseLock(client, "default", "fim-operator", identity))
            {
                LeaseDuration = leaseDuration,
                RenewDeadline = TimeSpan.FromSeconds(1),
                RetryPeriod = TimeSpan.FromMilliseconds(200),
            });
            elector.OnStartedLeading += () => leaders.Enqueue((identity, DateTime.UtcNow));
            return elector;
        }
    }

    private static async Task Quietly(Task t)
    {
        try
        {
            await t;
        }
        catch (OperationCanceledException)
        {
        }
    }
}

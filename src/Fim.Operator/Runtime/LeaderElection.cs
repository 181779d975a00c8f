using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Logging;

namespace Fim.Operator.Runtime;

public sealed record LeaderElectionOptions
{
    public bool Enabled { get; init; } = true;
    public string Namespace { get; init; } = "default";
    public string LeaseName { get; init; } = "fim-operator";
    public string Identity { get; init; } = $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..6]}";
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>Runs <c>work</c> only while this instance holds the Lease; stops it when leadership is lost, then campaigns again.</summary>
public sealed class LeaderGate(IKubernetes client, LeaderElectionOptions options, ILogger logger)
{
    public bool IsLeader { get; private set; }

    public async Task RunAsync(Func<CancellationToken, Task> work, CancellationToken ct)
    {
        if (!options.Enabled)
        {
            IsLeader = true;
            await work(ct);
            return;
        }

        while (!ct.IsCancellationRequested)
        {
            var elector = new LeaderElector(new LeaderElectionConfig(new LeaseLock(client, options.Namespace, options.LeaseName, options.Identity))
            {
                LeaseDuration = options.LeaseDuration,
                RenewDeadline = options.RenewDeadline,
                RetryPeriod = options.RetryPeriod,
            });
            using var leading = CancellationTokenSource.CreateLinkedTokenSource(ct);
            Task? running = null;
            elector.OnStartedLeading += () =>
            {
                IsLeader = true;
                OperatorMetrics.Leader.Set(1);
                logger.LogInformation("{Identity} is the leader (lease {Namespace}/{Lease})", options.Identity, options.Namespace, options.LeaseName);
                running = Task.Run(() => work(leading.Token), CancellationToken.None);
            };
            elector.OnStoppedLeading += () =>
            {
                IsLeader = false;
                OperatorMetrics.Leader.Set(0);
                logger.LogWarning("{Identity} lost the leadership", options.Identity);
                leading.Cancel();
            };
            try
            {
                await elector.RunUntilLeadershipLostAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                logger.LogWarning("leader election: {Error}", e.Message);
            }
            finally
            {
                IsLeader = false;
                await leading.CancelAsync();
                if (running is not null)
                {
                    await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }

            if (!ct.IsCancellationRequested)
            {
                await Task.Delay(options.RetryPeriod, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}

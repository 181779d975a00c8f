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

    /// <summary>How long shutdown waits for the controllers to stop before it gives the Lease up anyway.</summary>
    public TimeSpan ReleaseTimeout { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Runs <c>work</c> only while this instance holds the Lease; stops it when leadership is lost, then campaigns again.
/// On shutdown the leader stops its work and then releases the Lease (holder cleared, like client-go's
/// ReleaseOnCancel), so a standby takes over at its next retry instead of waiting for the lease to expire.
/// </summary>
public sealed class LeaderGate(IKubernetes client, LeaderElectionOptions options, ILogger logger)
{
    private volatile bool _observed;

    public bool IsLeader { get; private set; }

    /// <summary>True once the Lease was read or written at least once (the API server is reachable; a leader is known).</summary>
    public bool Observed => _observed || !options.Enabled;

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
            elector.OnNewLeader += _ => _observed = true;
            elector.OnStartedLeading += () =>
            {
                _observed = true;
                IsLeader = true;
                OperatorMetrics.Leader.Set(1);
                logger.LogInformation("{Identity} is the leader (lease {Namespace}/{Lease})", options.Identity, options.Namespace, options.LeaseName);
                running = Task.Run(() => work(leading.Token), CancellationToken.None);
            };
            elector.OnStoppedLeading += () =>
            {
                IsLeader = false;
                OperatorMetrics.Leader.Set(0);
                if (!ct.IsCancellationRequested)
                {
                    logger.LogWarning("{Identity} lost the leadership", options.Identity);
                }

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
                OperatorMetrics.Leader.Set(0);
                await leading.CancelAsync();
                if (running is not null)
                {
                    await running.WaitAsync(options.ReleaseTimeout, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    if (ct.IsCancellationRequested)
                    {
                        await ReleaseAsync();
                    }
                }
            }

            if (!ct.IsCancellationRequested)
            {
                await Task.Delay(options.RetryPeriod, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Clears the holder of a Lease this instance still holds; a conflict means someone else already has it.</summary>
    private async Task ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(options.ReleaseTimeout);
        try
        {
            var lease = await client.CoordinationV1.ReadNamespacedLeaseAsync(options.LeaseName, options.Namespace, cancellationToken: timeout.Token);
            if (lease.Spec?.HolderIdentity != options.Identity)
            {
                return;
            }

            var now = DateTime.UtcNow;
            lease.Spec.HolderIdentity = ""; // empty, as client-go releases it
            lease.Spec.LeaseDurationSeconds = 1;
            lease.Spec.RenewTime = now;
            lease.Spec.AcquireTime = now;
            await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, options.LeaseName, options.Namespace, cancellationToken: timeout.Token);
            logger.LogInformation("{Identity} released the lease {Namespace}/{Lease}", options.Identity, options.Namespace, options.LeaseName);
        }
        catch (Exception e)
        {
            logger.LogWarning("releasing the lease {Namespace}/{Lease}: {Error}", options.Namespace, options.LeaseName, e.Message);
        }
    }
}

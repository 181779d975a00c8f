using Fim.Agent.Monitoring;
using Fim.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Fim.Agent.Connected;

/// <summary>Puts the heartbeat into KV fim-agents under the agent's id every heartbeatInterval, and soon after any status change.</summary>
public sealed class HeartbeatService(
    NatsConnection nats,
    AgentIdentity identity,
    AgentStatus status,
    PolicySupervisor supervisor,
    Outbox outbox,
    IOptions<AgentOptions> options,
    ILogger<HeartbeatService> logger,
    DriftCounters? drift = null) : BackgroundService
{
    /// <summary>Status changes arriving together go out as one heartbeat.</summary>
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(200);

    private readonly TimeSpan _interval = Core.Policy.DurationText.Parse(options.Value.HeartbeatInterval);

    public Heartbeat Build()
    {
        var policies = status.Policies;
        var (combined, digests) = supervisor.Digests();
        return new Heartbeat
        {
            AgentId = identity.AgentId,
            Hostname = identity.Hostname,
            Version = identity.Version,
            BootId = identity.BootId,
            Labels = identity.Labels,
            AppliedPolicies = policies.Where(p => p.State == AgentStatus.Running).DistinctBy(p => p.Name).ToDictionary(p => p.Name, p => p.Revision),
            PolicyErrors = policies.Where(p => p.Error is not null).DistinctBy(p => p.Name).ToDictionary(p => p.Name, p => p.Error!),
            Policies = [.. policies.Select(p => new HeartbeatPolicy(p.Key, p.Name, p.Revision, p.State, p.Error ?? drift?.Problem(p.Name),
                digests.GetValueOrDefault(p.Name), ScanOf(p.LastScan, drift?.LastScanErrors(p.Name)), drift?.Get(p.Name)))],
            LastScan = ScanOf(status.LastScan),
            BaselineDigest = combined,
            Outbox = new HeartbeatOutbox(outbox.Depth, outbox.Bytes, outbox.MaxEvents, outbox.Overflowing, outbox.Overflows),
            Time = DateTimeOffset.UtcNow,
            WhoData = status.WhoData is { Count: > 0 } whoData ? whoData : null,
        };
    }

    private static HeartbeatScan? ScanOf(ScanReport? r, int? errors = null) =>
        r is null ? null : new(r.Policy, r.Reason, r.FinishedAt, r.Entries, r.Changes, Math.Round(r.Duration.TotalMilliseconds, 1), errors);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var kv = new NatsKVContext(new NatsJSContext(nats));
        INatsKVStore? bucket = null;
        var failing = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                bucket ??= await kv.GetStoreAsync(Subjects.AgentsBucket, ct);
                await bucket.PutAsync(identity.AgentId, ContractJson.ToUtf8(Build()), cancellationToken: ct);
                if (failing)
                {
                    logger.LogInformation("heartbeat delivered again");
                    failing = false;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (!failing)
                {
                    logger.LogWarning("cannot put the heartbeat into KV {Bucket}: {Error}; retrying", Subjects.AgentsBucket, e.Message);
                    failing = true;
                }
                bucket = null;
            }
            try
            {
                if (await status.WaitForChangeAsync(failing ? TimeSpan.FromSeconds(2) : _interval, ct))
                {
                    await Task.Delay(Debounce, ct);
                    await status.WaitForChangeAsync(TimeSpan.Zero, ct);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

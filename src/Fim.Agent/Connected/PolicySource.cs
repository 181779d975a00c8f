using Fim.Contracts;
using Fim.Nats;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Fim.Agent.Connected;

/// <summary>
/// Watches KV fim-policies and hands the supervisor every policy whose selector matches this agent's labels;
/// updates apply live, deletions and deselection stop monitoring, invalid values are reported and skipped.
/// Waits (retrying) while NATS or the bucket is not there.
/// </summary>
public sealed class PolicySource(NatsConnection nats, PolicySupervisor supervisor, AgentIdentity identity, AgentRetries retries, ILogger<PolicySource> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var kv = new NatsKVContext(new NatsJSContext(nats));
        // Not there yet (the operator creates the bucket), NATS away, or the watch broke: the pipeline tries again.
        await retries.WatchPolicies.KeepRunningAsync(async token =>
        {
            var store = await kv.GetStoreAsync(Subjects.PoliciesBucket, token);
            logger.LogInformation("watching KV {Bucket} for policies selecting {Labels}", Subjects.PoliciesBucket, identity.Labels);
            await foreach (var entry in store.WatchAsync<byte[]>(">", opts: new NatsKVWatchOpts { IncludeHistory = false }, cancellationToken: token))
            {
                await HandleAsync(entry);
            }
        }, ct);
    }

    private async Task HandleAsync(NatsKVEntry<byte[]> entry)
    {
        if (entry.Operation is NatsKVOperation.Del or NatsKVOperation.Purge)
        {
            await supervisor.RemoveAsync(entry.Key, "deleted from KV");
            return;
        }
        var (policy, name, revision, error) = AssignedPolicy.Parse(entry.Key, entry.Value ?? []);
        if (policy is null)
        {
            supervisor.ReportInvalid(entry.Key, name, revision, error!);
            return;
        }
        if (!policy.Selector.Matches(identity.Labels))
        {
            await supervisor.RemoveAsync(entry.Key, "its selector does not match this agent's labels");
            return;
        }
        await supervisor.ApplyAsync(policy);
    }
}

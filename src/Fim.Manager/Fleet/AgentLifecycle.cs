using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Agents;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Nats;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Fleet;

/// <summary>An agent with its lifecycle status: active, disconnected, or removed (with its removal).</summary>
public sealed record AgentView(AgentRecord Agent, string Status, AgentRemoval? Removal = null);

/// <summary>What a prune did: the agents removed, and those that sent a heartbeat meanwhile and stay.</summary>
public sealed record PruneOutcome(IReadOnlyList<AgentRemoval> Removed, IReadOnlyList<string> Kept);

/// <summary>
/// Agents' lifecycle: <c>active</c> while heartbeats arrive, <c>disconnected</c> after <see cref="FleetOptions.DisconnectedAfter"/>
/// without one, <c>removed</c> once pruned. Removing deletes the heartbeat key from KV fim-agents only if it is still the
/// revision that was judged disconnected (compare-and-set), so an agent that reports meanwhile stays, and records the
/// removal in KV fim-agent-removals with a create-or-update on its revision, so two managers pruning at once remove an
/// agent once. Alerts are never touched: FIM_ALERTS keeps the agent's history.
/// </summary>
public sealed class AgentLifecycle(AgentDirectory agents, AgentRemovals removals, NatsConnector nats, IOptions<FleetOptions> options,
    IOptions<PipelineOptions> pipeline, TimeProvider time, ILogger<AgentLifecycle> log)
{
    public const string Active = "active";
    public const string Disconnected = "disconnected";
    public const string Removed = "removed";
    public const string All = "all";

    public static readonly IReadOnlyList<string> Statuses = [Active, Disconnected, Removed, All];

    public TimeSpan DisconnectedAfter => options.Value.DisconnectedAfter;

    public string StatusOf(AgentRecord agent) => time.GetUtcNow() - agent.LastSeen > DisconnectedAfter ? Disconnected : Active;

    /// <summary>Agents with <paramref name="status"/> ("" = active and disconnected, "all" = every one), by id.</summary>
    public IEnumerable<AgentView> List(string status)
    {
        var live = agents.All.Select(a => new AgentView(a, StatusOf(a)));
        var removed = removals.All.Where(r => !agents.TryGet(r.AgentId, out _)).Select(ViewOf);
        var all = status is All or Removed ? live.Concat(removed) : live;
        return all.Where(v => status is "" ? v.Status != Removed : status == All || v.Status == status)
            .OrderBy(v => v.Agent.AgentId, StringComparer.Ordinal);
    }

    /// <summary>One agent: its heartbeat when it has one (a heartbeat always wins over a removal), else its removal.</summary>
    public AgentView? Get(string agentId) =>
        agents.TryGet(agentId, out var a) ? new AgentView(a, StatusOf(a))
        : removals.TryGet(agentId, out var r) ? ViewOf(r)
        : null;

    private static AgentView ViewOf(AgentRemoval r)
    {
        var json = r.LastHeartbeat is null ? "" : JsonSerializer.Serialize(r.LastHeartbeat, ContractJson.Default.Heartbeat);
        return new AgentView(new AgentRecord(r.AgentId, r.LastHeartbeat, r.LastSeen, json), Removed, r);
    }

    /// <summary>
    /// Removes each of <paramref name="candidates"/> that is still disconnected with its last heartbeat at or before
    /// <paramref name="cutoff"/> when read again from the bucket.
    /// </summary>
    public async Task<PruneOutcome> PruneAsync(IEnumerable<AgentRecord> candidates, DateTimeOffset cutoff, string by, string reason, CancellationToken cancellationToken)
    {
        var kv = await nats.KeyValueAsync(cancellationToken);
        var heartbeats = await FimBuckets.OpenOrCreateAsync(kv, Subjects.AgentsBucket, pipeline.Value.Replicas, cancellationToken);
        var removalStore = await removals.StoreAsync(cancellationToken);
        var removed = new List<AgentRemoval>();
        var kept = new List<string>();
        foreach (var candidate in candidates)
        {
            switch (await RemoveAsync(heartbeats, removalStore, candidate.AgentId, cutoff, by, reason, cancellationToken))
            {
                case { } removal:
                    removed.Add(removal);
                    break;
                default:
                    kept.Add(candidate.AgentId);
                    break;
            }
        }
        return new PruneOutcome(removed, kept);
    }

    private async Task<AgentRemoval?> RemoveAsync(INatsKVStore heartbeats, INatsKVStore removalStore, string agentId, DateTimeOffset cutoff,
        string by, string reason, CancellationToken cancellationToken)
    {
        var entry = await heartbeats.TryGetEntryAsync<byte[]>(agentId, serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: cancellationToken);
        if (!entry.Success)
        {
            return null;
        }
        var current = entry.Value;
        var now = time.GetUtcNow();
        // Judged on the bucket's value, not the cache: a heartbeat may have arrived since the caller looked.
        if (now - current.Created <= DisconnectedAfter || current.Created > cutoff)
        {
            return null;
        }
        var removal = new AgentRemoval
        {
            AgentId = agentId,
            RemovedAt = now,
            RemovedBy = by,
            Reason = reason,
            LastSeen = current.Created,
            LastHeartbeat = current.Value is { } v ? ContractJson.ReadHeartbeat(v) : null,
        };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(removal, ContractJson.Default.AgentRemoval);
        // The removal record is the lock: created, or updated on the revision read, by exactly one manager.
        var previous = await removalStore.TryGetEntryAsync<byte[]>(agentId, serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: cancellationToken);
        ulong written;
        if (previous.Success)
        {
            if (previous.Value.Value is { } old && AgentRemovals.Read(old) is { } earlier && earlier.LastSeen == current.Created)
            {
                // Another manager is removing this very heartbeat right now.
                return null;
            }
            var update = await removalStore.TryUpdateAsync(agentId, bytes, previous.Value.Revision, NatsRawSerializer<byte[]>.Default, cancellationToken);
            if (!update.Success)
            {
                return null;
            }
            written = update.Value;
        }
        else
        {
            var create = await removalStore.TryCreateAsync(agentId, bytes, NatsRawSerializer<byte[]>.Default, cancellationToken);
            if (!create.Success)
            {
                return null;
            }
            written = create.Value;
        }
        var deleted = await heartbeats.TryDeleteAsync(agentId, new NatsKVDeleteOpts { Revision = current.Revision }, cancellationToken);
        if (!deleted.Success)
        {
            // The agent reported between the read and the delete: it is active, and was never removed.
            await removalStore.TryDeleteAsync(agentId, new NatsKVDeleteOpts { Revision = written }, cancellationToken);
            log.LogInformation("agent {Agent} sent a heartbeat while being removed; it stays", agentId);
            return null;
        }
        removals.Remember(removal);
        log.LogInformation("agent {Agent} removed by {By} ({Reason}); last heartbeat {LastSeen:O}, its alerts are kept", agentId, by, reason, removal.LastSeen);
        return removal;
    }
}

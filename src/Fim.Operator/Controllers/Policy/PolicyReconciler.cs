using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Runtime;
using Microsoft.Extensions.Logging;

namespace Fim.Operator.Controllers.Policy;

public sealed record PolicyControllerOptions
{
    /// <summary>How often a valid policy is looked at again to refresh agent counts.</summary>
    public TimeSpan StatusRefresh { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Heartbeats older than this do not count as agents.</summary>
    public TimeSpan AgentStaleAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>While KV is unavailable a policy is looked at again this often (not with the growing error backoff).</summary>
    public TimeSpan KvRetry { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// FimPolicy -> validated -> KV fim-policies "&lt;ns&gt;.&lt;name&gt;" (written only when the value differs) -> status with
/// agent counts from heartbeats. The finalizer removes the KV entry before the object goes.
/// </summary>
public sealed class PolicyReconciler(ResourceClient policies, IPolicyStore store, IAgentDirectory agents, EventRecorder events, PolicyControllerOptions options, ILogger logger)
    : IReconciler<FimPolicy>
{
    public const string Finalizer = "fim.io/policy-cleanup";

    public async Task<ReconcileResult> ReconcileAsync(string key, FimPolicy? policy, CancellationToken ct)
    {
        var (ns, name) = ResourceKey.Split(key);
        var kvKey = Subjects.PolicyKey(ns ?? "default", name);
        if (policy is null)
        {
            return ReconcileResult.Done; // the finalizer already removed the KV entry
        }

        var meta = policy.Metadata;
        if (meta.DeletionTimestamp is not null)
        {
            if (Finalizers.Has(meta, Finalizer))
            {
                await store.DeleteAsync(kvKey, ct);
                OperatorMetrics.KvWrites.WithLabels("delete").Inc();
                await policies.SetFinalizersAsync(ns!, name, meta.ResourceVersion, Finalizers.Without(meta, Finalizer), ct);
                logger.LogInformation("policy {Policy}: removed KV {Key}", key, kvKey);
            }

            return ReconcileResult.Done;
        }

        if (!Finalizers.Has(meta, Finalizer))
        {
            await policies.SetFinalizersAsync(ns!, name, meta.ResourceVersion, Finalizers.With(meta, Finalizer), ct);
        }

        var validation = PolicyValidator.Validate(ns!, name, policy.Spec);
        var now = DateTime.UtcNow;
        if (!validation.IsValid)
        {
            OperatorMetrics.InvalidPolicies.Inc();
            var invalid = PolicyStatusCalculator.Invalid(policy, validation, now);
            if (!PolicyStatusCalculator.Same(policy.Status, invalid))
            {
                await policies.PatchStatusAsync(ns!, name, invalid, ct);
                logger.LogWarning("policy {Policy} refused: {Problem}", key, validation.Problem);
                await events.RecordAsync(policy, "Warning", "InvalidSpec", validation.Problem!, ct);
            }

            return ReconcileResult.Done;
        }

        long revision;
        try
        {
            revision = await PublishAsync(policy, ns!, name, kvKey, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // NATS away: say so on the policy and look again soon (a steady cadence, so it converges quickly once
            // NATS is back; the connection's reopening also wakes every policy).
            var unavailable = PolicyStatusCalculator.Unpublished(policy, $"KV {Subjects.PoliciesBucket} unavailable: {e.Message}", now);
            if (!PolicyStatusCalculator.Same(policy.Status, unavailable))
            {
                await policies.PatchStatusAsync(ns!, name, unavailable, ct);
            }

            logger.LogWarning("policy {Policy}: KV {Bucket} unavailable ({Error}); retry in {Delay} ms", key, Subjects.PoliciesBucket, e.Message, (int)options.KvRetry.TotalMilliseconds);
            return ReconcileResult.After(options.KvRetry);
        }

        var counts = PolicyStatusCalculator.Count(ns!, name, policy.Spec.Selector, revision, agents.Agents, DateTimeOffset.UtcNow, options.AgentStaleAfter);
        var status = PolicyStatusCalculator.Published(policy, revision, counts, now);
        if (!PolicyStatusCalculator.Same(policy.Status, status))
        {
            await policies.PatchStatusAsync(ns!, name, status, ct);
        }

        return ReconcileResult.After(options.StatusRefresh);
    }

    /// <summary>
    /// Writes the value unless KV already holds the same policy. The revision is metadata.generation, but never goes
    /// back: after a restore (generation 1 again) an unchanged policy keeps its stored revision and a changed one gets
    /// a revision above the stored one, so agents always see it grow.
    /// </summary>
    private async Task<long> PublishAsync(FimPolicy policy, string ns, string name, string kvKey, CancellationToken ct)
    {
        var stored = await store.GetAsync(kvKey, ct);
        var storedRevision = stored is null ? null : PolicyDocuments.ReadRevision(stored);
        if (stored is not null && storedRevision is { } sr && PolicyDocuments.PolicyValue(ns, name, sr, policy.Spec).AsSpan().SequenceEqual(stored))
        {
            return sr;
        }

        var revision = Math.Max(policy.Metadata.Generation ?? 1, (storedRevision ?? 0) + (stored is null ? 0 : 1));
        await store.PutAsync(kvKey, PolicyDocuments.PolicyValue(ns, name, revision, policy.Spec), ct);
        OperatorMetrics.KvWrites.WithLabels("put").Inc();
        logger.LogInformation("policy {Policy}: published revision {Revision} to KV {Key}", ResourceKey.Of(policy), revision, kvKey);
        await events.RecordAsync(policy, "Normal", "Published", $"revision {revision} published to KV {Subjects.PoliciesBucket}/{kvKey}", ct);
        return revision;
    }
}

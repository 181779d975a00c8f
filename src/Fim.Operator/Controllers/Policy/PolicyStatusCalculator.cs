using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Runtime;

namespace Fim.Operator.Controllers.Policy;

/// <summary>Pure: which agents a policy targets, which applied it, and the resulting status.</summary>
public static class PolicyStatusCalculator
{
    /// <summary>(targeted, applied): agents with a fresh heartbeat whose labels match; of those, the ones at the revision.</summary>
    public static (int Targeted, int Applied) Count(string ns, string name, AgentSelector? selector, long revision, IEnumerable<Heartbeat> agents, DateTimeOffset now, TimeSpan staleAfter)
    {
        var policy = Subjects.PolicyName(ns, name);
        var matcher = selector?.ToLabelSelector() ?? LabelSelector.Everything;
        var targeted = 0;
        var applied = 0;
        foreach (var a in agents)
        {
            if (now - a.Time > staleAfter)
            {
                continue;
            }

            if (!matcher.Matches(a.Labels))
            {
                continue;
            }

            targeted++;
            if (a.AppliedPolicies.TryGetValue(policy, out var r) && r == revision)
            {
                applied++;
            }
        }

        return (targeted, applied);
    }

    public static FimPolicyStatus Invalid(FimPolicy policy, PolicyValidation validation, DateTime now)
    {
        var g = policy.Metadata.Generation;
        var previous = policy.Status;
        return new FimPolicyStatus
        {
            Conditions = Conditions.Merge(previous?.Conditions,
            [
                Conditions.Make("Accepted", false, "InvalidSpec", validation.Problem!, g),
                Conditions.Make("Published", previous?.PublishedRevision is not null, "InvalidSpec",
                    previous?.PublishedRevision is { } rev ? $"revision {rev} stays published until the spec is fixed" : "nothing published: the spec is invalid", g),
            ], now),
            ObservedGeneration = g,
            PublishedRevision = previous?.PublishedRevision,
            AgentsTargeted = previous?.AgentsTargeted,
            AgentsApplied = previous?.AgentsApplied,
        };
    }

    /// <summary>Valid, but the KV write failed: Published=False (reason KvUnavailable), the previous revision kept.</summary>
    public static FimPolicyStatus Unpublished(FimPolicy policy, string message, DateTime now)
    {
        var g = policy.Metadata.Generation;
        return (policy.Status ?? new FimPolicyStatus()) with
        {
            Conditions = Conditions.Merge(policy.Status?.Conditions,
            [
                Conditions.Make("Accepted", true, "Valid", "the spec compiles", g),
                Conditions.Make("Published", false, "KvUnavailable", message, g),
            ], now),
            ObservedGeneration = g,
        };
    }

    public static FimPolicyStatus Published(FimPolicy policy, long revision, (int Targeted, int Applied) agents, DateTime now)
    {
        var g = policy.Metadata.Generation;
        return new FimPolicyStatus
        {
            Conditions = Conditions.Merge(policy.Status?.Conditions,
            [
                Conditions.Make("Accepted", true, "Valid", "the spec compiles", g),
                Conditions.Make("Published", true, "Published", $"revision {revision} is in KV fim-policies", g),
            ], now),
            ObservedGeneration = g,
            PublishedRevision = revision,
            AgentsTargeted = agents.Targeted,
            AgentsApplied = agents.Applied,
        };
    }

    public static bool Same(FimPolicyStatus? a, FimPolicyStatus b) =>
        a is not null && a.ObservedGeneration == b.ObservedGeneration && a.PublishedRevision == b.PublishedRevision
        && a.AgentsTargeted == b.AgentsTargeted && a.AgentsApplied == b.AgentsApplied
        && Pool.PoolStatusCalculator.SameConditions(a.Conditions, b.Conditions);
}

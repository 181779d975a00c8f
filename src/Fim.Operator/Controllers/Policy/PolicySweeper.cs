using Fim.Contracts;
using Fim.Operator.Runtime;
using Microsoft.Extensions.Logging;

namespace Fim.Operator.Controllers.Policy;

/// <summary>
/// Level-triggered cleanup of KV fim-policies: a key whose FimPolicy no longer exists (deleted while the operator
/// was down, or its finalizer removed by hand) is deleted. Runs only on a synced cache, so it never mistakes
/// "not listed yet" for "gone".
/// </summary>
public sealed class PolicySweeper(IPolicyStore store, ILogger logger)
{
    /// <summary>Pure: the keys in scope (all, or one namespace's) with no policy behind them.</summary>
    public static IReadOnlyList<string> Orphans(IEnumerable<string> kvKeys, IEnumerable<string> policyKeys, string? onlyNamespace)
    {
        var live = policyKeys.Select(k => ResourceKey.Split(k)).Select(k => Subjects.PolicyKey(k.Namespace ?? "default", k.Name)).ToHashSet(StringComparer.Ordinal);
        return [.. kvKeys.Where(k => (onlyNamespace is null || k.StartsWith(onlyNamespace + ".", StringComparison.Ordinal)) && !live.Contains(k))];
    }

    public async Task<int> SweepAsync(IEnumerable<string> policyKeys, string? onlyNamespace, CancellationToken ct)
    {
        var orphans = Orphans(await store.KeysAsync(ct), policyKeys, onlyNamespace);
        foreach (var key in orphans)
        {
            await store.DeleteAsync(key, ct);
            OperatorMetrics.KvWrites.WithLabels("delete").Inc();
            logger.LogInformation("KV {Bucket}/{Key} has no FimPolicy any more: deleted", Subjects.PoliciesBucket, key);
        }

        return orphans.Count;
    }
}

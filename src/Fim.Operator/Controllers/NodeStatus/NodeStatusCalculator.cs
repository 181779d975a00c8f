using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Controllers.Pool;
using k8s.Models;

namespace Fim.Operator.Controllers.NodeStatus;

/// <summary>Pure: the FimNodeStatus a heartbeat gives for one policy, and whether a stored one already says it.</summary>
public static class NodeStatusCalculator
{
    public const string NodeLabel = "fim.io/node";
    public const string PolicyLabel = "fim.io/policy";

    /// <summary>&lt;policy&gt;.&lt;node&gt;; both are DNS names, so the result is one too unless it is too long (then shortened with a hash).</summary>
    public static string NameOf(string policy, string node)
    {
        var name = $"{policy}.{node}";
        if (name.Length <= 253)
        {
            return name;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..16];
        return $"{name[..(253 - 17)].TrimEnd('.', '-')}.{hash}";
    }

    /// <summary>clean, changed, error or unknown, from one policy of a heartbeat.</summary>
    public static FimNodeStatusReport Report(Heartbeat hb, HeartbeatPolicy p, long? unreviewedHighAlerts = null)
    {
        var drift = p.Drift;
        var scanErrors = p.LastScan?.Errors;
        // An error beside a running state: the agent cannot vouch for its drift counters (tampered with or lost).
        var result = p.State is "error" or "invalid" || p.Error is not null || scanErrors > 0 ? FimNodeStatusReport.ResultError
            : drift is null ? FimNodeStatusReport.ResultUnknown
            : drift.Total > 0 ? FimNodeStatusReport.ResultChanged
            : FimNodeStatusReport.ResultClean;
        return new FimNodeStatusReport
        {
            Result = result,
            Message = p.Error is { } e ? (e.Length > 512 ? e[..512] : e) : scanErrors > 0 ? $"the last scan could not examine {scanErrors} entries" : null,
            LastScan = p.LastScan is { } s ? s.Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ") : null,
            LastScanReason = p.LastScan?.Reason,
            LastScanErrors = scanErrors,
            Added = drift?.Added,
            Changed = drift?.Changed,
            Removed = drift?.Removed,
            BaselineAcceptedAt = drift?.Since.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            BaselineAcceptedBy = drift?.AcceptedBy,
            PolicyRevision = p.Revision,
            WhoDataSource = hb.WhoData?.GetValueOrDefault(p.Name)?.Source,
            AgentVersion = hb.Version,
            UnreviewedHighAlerts = unreviewedHighAlerts,
        };
    }

    public static bool Failed(string? result) => result is FimNodeStatusReport.ResultChanged or FimNodeStatusReport.ResultError;

    /// <summary>The object the operator applies: owned by the policy, and by the Node when there is one.</summary>
    public static FimNodeStatus Desired(FimPolicy policy, Heartbeat hb, HeartbeatPolicy p, V1Node? node, long? unreviewedHighAlerts = null)
    {
        var owners = new List<V1OwnerReference>
        {
            new() { ApiVersion = FimApi.ApiVersion, Kind = FimPolicy.KindName, Name = policy.Metadata.Name, Uid = policy.Metadata.Uid, Controller = true },
        };
        if (node is not null)
        {
            owners.Add(new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = node.Metadata.Name, Uid = node.Metadata.Uid });
        }

        return new FimNodeStatus
        {
            Metadata = new V1ObjectMeta
            {
                Name = NameOf(policy.Metadata.Name, hb.AgentId),
                NamespaceProperty = policy.Metadata.NamespaceProperty,
                Labels = new Dictionary<string, string>
                {
                    [PoolLabels.ManagedBy] = PoolLabels.ManagedByValue,
                    [NodeLabel] = hb.AgentId,
                    [PolicyLabel] = policy.Metadata.Name,
                },
                OwnerReferences = owners,
            },
            Spec = new FimNodeStatusSpec { Node = hb.AgentId, Policy = policy.Metadata.Name },
            Status = Report(hb, p, unreviewedHighAlerts),
        };
    }

    /// <summary>True when <paramref name="stored"/> holds everything <paramref name="desired"/> applies (others' additions do not count).</summary>
    public static bool Same(FimNodeStatus? stored, FimNodeStatus desired)
    {
        if (stored is null || stored.Spec.Node != desired.Spec.Node || stored.Spec.Policy != desired.Spec.Policy)
        {
            return false;
        }

        if (!Equals(stored.Status ?? new FimNodeStatusReport(), desired.Status))
        {
            return false;
        }

        var labels = stored.Metadata.Labels ?? new Dictionary<string, string>();
        if (desired.Metadata.Labels.Any(l => !labels.TryGetValue(l.Key, out var v) || v != l.Value))
        {
            return false;
        }

        var uids = (stored.Metadata.OwnerReferences ?? []).Select(o => o.Uid).ToHashSet();
        return desired.Metadata.OwnerReferences.All(o => uids.Contains(o.Uid));
    }

    /// <summary>
    /// Who set the fim.io/rebaseline annotation: the field manager the API server recorded for it in managedFields
    /// (kubectl annotate is "kubectl-annotate", a controller its own name), or null when the server sent none.
    /// </summary>
    public static string? RequesterOf(IList<V1ManagedFieldsEntry>? managedFields)
    {
        foreach (var entry in (managedFields ?? []).OrderByDescending(e => e.Time))
        {
            if (entry.FieldsV1 is null)
            {
                continue;
            }

            var json = entry.FieldsV1 is JsonElement el ? el.GetRawText() : JsonSerializer.Serialize(entry.FieldsV1);
            if (json.Contains($"\"f:{NodeStatusController.RebaselineAnnotation}\"", StringComparison.Ordinal))
            {
                return entry.Operation is { } op ? $"{entry.Manager} ({op})" : entry.Manager;
            }
        }

        return null;
    }

    /// <summary>
    /// The annotation's value: empty = every node, "failed" = nodes whose result is changed or error, else a comma- or
    /// space-separated list of node names. Returns the problem with the value, or null.
    /// </summary>
    public static string? ParseSelection(string value, out IReadOnlyList<string>? nodes)
    {
        nodes = null;
        var v = value.Trim();
        if (v.Length == 0 || v == "failed")
        {
            return null;
        }

        var list = v.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var bad = list.FirstOrDefault(n => !Subjects.IsValidAgentId(n));
        if (bad is not null)
        {
            return $"{NodeStatusController.RebaselineAnnotation}: '{bad}' is not a node name (lower-case letters, digits, '-' and '_'); "
                + "use an empty value for every node, 'failed' for the nodes that changed or failed, or a comma-separated list of nodes";
        }

        nodes = [.. list.Distinct(StringComparer.Ordinal)];
        return null;
    }
}

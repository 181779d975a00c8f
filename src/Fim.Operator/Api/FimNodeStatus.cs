namespace Fim.Operator.Api;

/// <summary>
/// FimNodeStatus: one node's integrity under one FimPolicy, written by the operator from the agent's heartbeats (agents
/// have no Kubernetes write permission). Named &lt;policy&gt;.&lt;node&gt; in the policy's namespace, owned by the
/// FimPolicy (and by the Node when one of that name exists). Bounded: counts, never change lists.
/// </summary>
public sealed class FimNodeStatus : CustomResource<FimNodeStatusSpec, FimNodeStatusReport>
{
    public const string KindName = "FimNodeStatus";
    public const string Plural = "fimnodestatuses";

    public override string Kind { get; set; } = KindName;
}

[Description("Which node and policy this status is about (set by the operator).")]
public sealed class FimNodeStatusSpec
{
    [RequiredField, Description("The node (the agent id, which is the node name in the DaemonSet).")]
    public string Node { get; set; } = "";

    [RequiredField, Description("The FimPolicy's name (in this namespace).")]
    public string Policy { get; set; } = "";
}

/// <summary>What the agent's last heartbeat said about the policy. Only fields that change with the node's state: no heartbeat time, so nothing is written while nothing changes.</summary>
public sealed record FimNodeStatusReport
{
    public const string ResultClean = "clean";
    public const string ResultChanged = "changed";
    public const string ResultError = "error";
    public const string ResultUnknown = "unknown";

    [EnumValues("clean", "changed", "error", "unknown"),
     Description("clean: no drift since the accepted baseline; changed: drift; error: the policy failed or the last scan could not examine some entries; unknown: the agent does not report drift.")]
    public string? Result { get; init; }

    [Description("Why the result is error, from the agent.")]
    public string? Message { get; init; }

    [Description("When the last full scan of the policy finished (RFC 3339).")]
    public string? LastScan { get; init; }

    [Description("Why it ran: startup, schedule, full-verify, command, outbox-recovered.")]
    public string? LastScanReason { get; init; }

    [Range(0), Description("Entries the last scan could not examine.")]
    public int? LastScanErrors { get; init; }

    [Range(0), Description("Files added since the accepted baseline.")]
    public long? Added { get; init; }

    [Range(0), Description("Files changed since the accepted baseline (content, attributes, type).")]
    public long? Changed { get; init; }

    [Range(0), Description("Files removed since the accepted baseline.")]
    public long? Removed { get; init; }

    [Range(0), Description("The node's stored alerts at level 10 and above that nobody has reviewed yet (all policies: the managers count them per agent); absent while no manager has counted.")]
    public long? UnreviewedHighAlerts { get; init; }

    [Description("When the current baseline was accepted (first baseline or last re-baseline, RFC 3339).")]
    public string? BaselineAcceptedAt { get; init; }

    [Description("Who accepted it (the requester of the last re-baseline).")]
    public string? BaselineAcceptedBy { get; init; }

    [Description("The policy revision the agent runs.")]
    public long? PolicyRevision { get; init; }

    [Description("Who-data source the policy runs on: fanotify-ebpf, fanotify-proc, inotify, off.")]
    public string? WhoDataSource { get; init; }

    [Description("The agent's version.")]
    public string? AgentVersion { get; init; }
}

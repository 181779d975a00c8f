namespace Fim.Operator.Api;

/// <summary>FimPolicy: which agents monitor which paths, and how. The spec is Fim.Core's PolicySpec plus a label selector.</summary>
public sealed class FimPolicy : CustomResource<FimPolicySpec, FimPolicyStatus>
{
    public const string KindName = "FimPolicy";
    public const string Plural = "fimpolicies";

    public override string Kind { get; set; } = KindName;
}

/// <summary>
/// Mirrors Fim.Core.Policy.PolicySpec field by field (a test keeps them in step); "selector" replaces the core
/// model's matchLabels map by a full Kubernetes label selector. Unset fields take the agent's defaults.
/// </summary>
[Description("What to monitor on the agents the selector picks (docs/policy.md).")]
public sealed class FimPolicySpec
{
    [Description("Which agents apply this policy, by their labels; empty selects every agent.")]
    public AgentSelector? Selector { get; set; }

    [Description("Monitored paths; a policy needs paths, sources or both.")]
    public List<FimPathRule>? Paths { get; set; }

    public FimSchedule? Schedule { get; set; }

    [Range(0), Description("Cap on events per second; beyond it events are summarised. 0 = no cap.")]
    public int? EventsPerSecond { get; set; }

    [Range(0, 15), Description("Minimum alert level (Wazuh-like 0-15) for events of this policy.")]
    public int? Severity { get; set; }

    [Description("Compliance and free tags added to every alert, e.g. pci_dss:11.5.")]
    public List<string>? Tags { get; set; }

    public FimThrottle? Throttle { get; set; }

    [Description("Who-data: name the process and user behind each realtime change.")]
    public FimWhoData? WhoData { get; set; }
    public FimDiffs? Diffs { get; set; }

    public FimFlapping? Flapping { get; set; }
    public FimPodSelection? Pods { get; set; }

    [Description("JSON-lines files the agent tails and sends line by line as security records (docs/sources.md).")]
    public List<FimSource>? Sources { get; set; }

    /// <summary>Operator-only (not in the core model nor the agents' policy document): the node hold-off.</summary>
    public FimNodeMaintenance? NodeMaintenance { get; set; }
}

public sealed class FimSource
{
    [RequiredField, Pattern("^/"), Description("Absolute path of the files; the file name may be a glob (/var/log/prowler/*.ocsf.json).")]
    public string Path { get; set; } = "";

    [RequiredField, EnumValues("prowler", "falco", "json"), Description("How each line is decoded: prowler (JSON-OCSF findings), falco (Falco's JSON output) or json.")]
    public string Format { get; set; } = "";
}

public sealed class FimPathRule
{
    [RequiredField, Pattern("^/"), Description("Absolute path of a directory or file.")]
    public string Path { get; set; } = "";

    [Description("Descend into directories (default true).")]
    public bool? Recursive { get; set; }

    [Range(0), Description("Deepest level recorded below the path; unset = unlimited.")]
    public int? MaxDepth { get; set; }

    [Description("Globs; when any is given, only non-directories matching one are recorded.")]
    public List<string>? Include { get; set; }

    [Description("Globs of paths to skip; an excluded directory is not descended.")]
    public List<string>? Exclude { get; set; }

    [Description("Attributes to compare (e.g. all, perm, owner, size, mtime, hash); empty = the default set.")]
    public List<string>? Check { get; set; }

    [Description("Hash algorithms: sha256 (default), sha512, sha1, md5, xxh128.")]
    public List<string>? Hashes { get; set; }

    [Description("Largest file whose content is hashed, e.g. 2Gi.")]
    public string? MaxFileSize { get; set; }

    public bool? OneFilesystem { get; set; }

    public bool? FollowSymlinks { get; set; }

    [Description("Watch with inotify between scans (default true).")]
    public bool? Realtime { get; set; }

    [Description("Attach a unified diff to events of changed text files (default false); see spec.diffs.")]
    public bool? ReportDiffs { get; set; }
}

public sealed class FimSchedule
{
    [Description("How often to rescan, e.g. 12h.")]
    public string? RescanInterval { get; set; }

    [Description("How often a rescan re-hashes every file, e.g. 7d.")]
    public string? FullVerifyInterval { get; set; }

    [EnumValues("incremental", "full")]
    public string? Verify { get; set; }
}

public sealed class FimThrottle
{
    [Description("Content read rate cap in bytes/s, with optional unit (50Mi).")]
    public string? BytesPerSecond { get; set; }

    [Range(1)]
    public int? FilesPerSecond { get; set; }

    [Range(0, 19)]
    public int? Nice { get; set; }

    [EnumValues("idle", "best-effort", "normal")]
    public string? IoClass { get; set; }

    [Range(1, 64)]
    public int? Parallelism { get; set; }
}

public sealed record FimPolicyStatus
{
    public List<Condition>? Conditions { get; init; }

    public long? ObservedGeneration { get; init; }

    [Description("The revision written to KV fim-policies (the metadata.generation it came from).")]
    public long? PublishedRevision { get; init; }

    [Description("Agents whose labels the selector matches (from their heartbeats).")]
    public int? AgentsTargeted { get; init; }

    [Description("Targeted agents whose heartbeat reports the published revision.")]
    public int? AgentsApplied { get; init; }

    /// <summary>Written by the node status controller only; the policy reconciler's status patches leave it alone.</summary>
    [OwnedElsewhere, Description("The last re-baseline asked for with the fim.io/rebaseline annotation.")]
    public FimRebaselineStatus? LastRebaseline { get; init; }
}

/// <summary>The outcome of one fim.io/rebaseline annotation.</summary>
public sealed record FimRebaselineStatus
{
    [Description("The annotation's value: empty (every node), failed, or a list of nodes.")]
    public string? Selection { get; init; }

    [Description("Who asked: the field manager that set the annotation, as the API server recorded it.")]
    public string? RequestedBy { get; init; }

    [Description("When the operator finished it (RFC 3339).")]
    public string? Time { get; init; }

    [Range(0), Description("Nodes selected.")]
    public int? Selected { get; init; }

    [Range(0), Description("Nodes whose agent accepted their current state as the new baseline.")]
    public int? Rebaselined { get; init; }

    [Description("Nodes that did not answer or refused, with why.")]
    public List<string>? Failed { get; init; }
}

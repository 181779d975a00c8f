namespace Fim.Core.Policy;

/// <summary>
/// A monitoring policy: the same model as the FimPolicy custom resource's spec.
/// Property names are the camelCase keys of the YAML file and of the CR.
/// </summary>
public sealed class PolicySpec
{
    public const int DefaultRescanSeconds = 12 * 3600;

    /// <summary>Name used in events and alerts (the CR's namespace/name in connected mode).</summary>
    public string Name { get; set; } = "default";
    /// <summary>Agent/node label selector; ignored by a standalone agent.</summary>
    public Dictionary<string, string>? Selector { get; set; }
    public List<PathRule> Paths { get; set; } = [];
    public ScheduleSpec Schedule { get; set; } = new();
    /// <summary>Cap on events emitted per second; beyond it events are summarised, never dropped silently. 0 = no cap.</summary>
    public int EventsPerSecond { get; set; }
    /// <summary>Wazuh-like level (0-15) given to alerts from this policy at least; null keeps rule levels.</summary>
    public int? Severity { get; set; }
    /// <summary>Compliance and free tags added to every alert, e.g. "pci_dss:11.5".</summary>
    public List<string> Tags { get; set; } = [];
    public ThrottleSpec Throttle { get; set; } = new();
    /// <summary>Who-data: the writer of each realtime change (docs/policy.md).</summary>
    public WhoDataSpec WhoData { get; set; } = new();
    /// <summary>How content diffs are kept (quota, size caps, nodiff globs); see path entries' reportDiffs.</summary>
    public DiffsSpec Diffs { get; set; } = new();
    /// <summary>Summarise files that change too often; null = every change is reported on its own.</summary>
    public FlappingSpec? Flapping { get; set; }
    /// <summary>Monitor files inside the containers of these pods (paths as the containers see them); null = the node's files.</summary>
    public PodSelectionSpec? Pods { get; set; }
    /// <summary>JSON-lines files the agent tails and sends line by line as security records (docs/sources.md).</summary>
    public List<SourceSpec> Sources { get; set; } = [];
}

/// <summary>Files of one format to tail: an absolute path whose file name may be a glob (<c>/var/log/prowler/*.ocsf.json</c>).</summary>
public sealed class SourceSpec
{
    public string Path { get; set; } = "";
    /// <summary>prowler, falco or json.</summary>
    public string Format { get; set; } = "";
}

/// <summary>One monitored path and how to check what lies below it.</summary>
public sealed class PathRule
{
    public const long DefaultMaxFileSize = 2L * 1024 * 1024 * 1024;

    /// <summary>Absolute path of a directory or file.</summary>
    public string Path { get; set; } = "";
    public bool Recursive { get; set; } = true;
    /// <summary>Deepest level recorded below the path (its direct entries are depth 1); null = unlimited.</summary>
    public int? MaxDepth { get; set; }
    /// <summary>Globs; when any is given, only non-directories matching one are recorded.</summary>
    public List<string> Include { get; set; } = [];
    /// <summary>Globs of paths to skip; an excluded directory is not descended.</summary>
    public List<string> Exclude { get; set; } = [];
    /// <summary>Attribute names to compare (see CheckAttributeNames); empty = the default set.</summary>
    public List<string> Check { get; set; } = [];
    /// <summary>Hash algorithms: sha256 (default), sha512, sha1, md5, xxh128.</summary>
    public List<string> Hashes { get; set; } = [];
    /// <summary>Largest file whose content is hashed, in bytes or with a unit ("2Gi", "500M"); larger files keep every other check.</summary>
    public string? MaxFileSize { get; set; }
    public bool OneFilesystem { get; set; } = true;
    public bool FollowSymlinks { get; set; }
    public bool Realtime { get; set; } = true;
    /// <summary>Attach a unified diff to changed text files (see the policy's diffs section).</summary>
    public bool ReportDiffs { get; set; }
}

public sealed class ScheduleSpec
{
    /// <summary>How often to rescan ("12h", "30m", "90s"); incremental (metadata first).</summary>
    public string? RescanInterval { get; set; }
    /// <summary>How often a rescan re-hashes every file regardless of metadata; null = never automatically.</summary>
    public string? FullVerifyInterval { get; set; }
    /// <summary>"incremental" (default) or "full": whether every scan re-reads content.</summary>
    public string Verify { get; set; } = "incremental";
}

public sealed class ThrottleSpec
{
    /// <summary>Content read rate cap, bytes/s, with optional unit ("50Mi"); null = unlimited.</summary>
    public string? BytesPerSecond { get; set; }
    public int? FilesPerSecond { get; set; }
    /// <summary>CPU nice value 0-19 applied to the agent process.</summary>
    public int? Nice { get; set; }
    /// <summary>"idle", "best-effort" or "normal" I/O scheduling class.</summary>
    public string? IoClass { get; set; }
    /// <summary>Scan worker threads; null = one per core.</summary>
    public int? Parallelism { get; set; }
}

using System.Text.Json;
using Fim.Contracts;
using Fim.Core.Model;

namespace Fim.Contracts.Tests;

/// <summary>One fully populated sample of every payload: every optional field set, so none can be renamed unseen.</summary>
public static class Samples
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 23, 16, 0, 0, 123, TimeSpan.Zero);

    /// <summary>"/srv/data/caf\xE9-menu.txt": Latin-1 bytes, not UTF-8, as file names can be.</summary>
    private static readonly byte[] NonUtf8Path = [.. "/srv/data/caf"u8, 0xE9, .. "-menu.txt"u8];

    public static FileState State(long size, string sha256) => new()
    {
        Type = "file",
        Size = size,
        Mode = "0644",
        Uid = 1000,
        Gid = 1000,
        Owner = "alice",
        Group = "staff",
        Mtime = T0.AddMinutes(-5),
        Ctime = T0.AddMinutes(-5),
        Inode = 131_074,
        Device = 2049,
        Nlink = 1,
        Target = "/srv/data/target",
        TargetBase64 = Convert.ToBase64String("/srv/data/target"u8),
        HashStatus = "too-large",
        Sha256 = sha256,
        Sha512 = new string('b', 128),
        Sha1 = new string('c', 40),
        Md5 = new string('d', 32),
        Xxh128 = new string('e', 32),
        Xattrs = new Dictionary<string, string> { ["security.selinux"] = Convert.ToBase64String("system_u:object_r:var_t:s0"u8) },
    };

    public static FileEvent Event() => new()
    {
        EventId = "node-1:19ab3c2d:42",
        AgentId = "node-1",
        Host = "node-1.example.org",
        Policy = "prod/web-config",
        Path = PathBytes.ToDisplay(NonUtf8Path),
        PathBase64 = Convert.ToBase64String(NonUtf8Path),
        Kind = "modified",
        Changed = ["size", "mtime", "sha256"],
        Before = State(10, new string('0', 64)),
        After = State(12, new string('1', 64)),
        Source = "realtime",
        ObservedAt = T0,
        PublishedAt = T0.AddMilliseconds(5),
        Diff = "@@ -1 +1 @@\n-a\n+b\n",
        Actor = new Actor
        {
            Uid = 0,
            LoginUid = 1000,
            Pid = 4242,
            Process = "vim",
            Workload = Writer(),
            Ppid = 4200,
            Executable = "/usr/bin/vim.basic",
            CommandLine = "vim /etc/passwd",
            Euid = 0,
            Gid = 0,
            User = "root",
            Group = "root",
            LoginUser = "alice",
            SessionId = 3,
        },
        Container = new Workload
        {
            Scope = Workload.PodScope,
            ContainerId = new string('c', 64),
            ContainerRuntime = "containerd",
            ContainerName = "nginx",
            Image = "nginx:1.27",
            PodName = "web-7d9f8b6c5-x2x9q",
            PodNamespace = "prod",
            PodUid = "6f1d2c3b-0a9e-4d8f-8b7a-1c2d3e4f5a6b",
            OwnerKind = "Deployment",
            OwnerName = "web",
        },
    };

    /// <summary>The writer's workload: a container of a DaemonSet's pod.</summary>
    public static Workload Writer() => new()
    {
        Scope = Workload.PodScope,
        ContainerId = new string('a', 64),
        ContainerRuntime = "cri-o",
        ContainerName = "shell",
        Image = "busybox:1.36",
        PodName = "debug-abcde",
        PodNamespace = "ops",
        PodUid = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9",
        OwnerKind = "DaemonSet",
        OwnerName = "debug",
    };

    /// <summary>The content fields of issue 14: a cut diff, an append-only verdict and a flapping summary on one event.</summary>
    public static FileEvent ContentEvent()
    {
        var e = Event();
        e.EventId = "node-1:19ab3c2d:44";
        e.Kind = "append-violation";
        e.Diff = "--- a/var/log/audit.log\n+++ b/var/log/audit.log\n@@ -1 +1 @@\n-a\n+b\n[fim: diff truncated at 32768 of 99999 bytes (policy diffs.maxDiffSize)]\n";
        e.DiffInfo = new DiffInfo { Status = DiffInfo.Truncated, Reason = "quota", FullSize = 99_999 };
        e.Growth = new GrowthInfo { Verdict = GrowthInfo.Rewritten, PreviousSize = 1_048_576, ChangedAt = 524_288, RotatedTo = "/var/log/audit.log.1" };
        e.Flapping = new FlappingInfo { State = FlappingInfo.Ongoing, Changes = 17, WindowSeconds = 600, Since = T0.AddMinutes(-10) };
        return e;
    }

    /// <summary>An agent found its baseline deleted and recorded a new one: the reset is an event of its own.</summary>
    public static FileEvent BaselineResetEvent() => new()
    {
        EventId = "node-1:19ab3c2d:43",
        AgentId = "node-1",
        Host = "node-1.example.org",
        Policy = "prod/web-config",
        Path = "/var/lib/fim-agent/prod.web-config",
        Kind = FileEvent.BaselineResetKind,
        Changed = [],
        Source = "scan",
        ObservedAt = T0,
        PublishedAt = T0.AddMilliseconds(5),
        Reset = new BaselineResetInfo
        {
            Reason = "missing",
            Detail = "there is no baseline, but the anchor says one was saved (generation 7): it was deleted",
            PreviousGeneration = 7,
            PreviousSavedAt = T0.AddDays(-1),
        },
    };

    /// <summary>A packaged binary changed by the upgrade of its package that just ran, verified against the package database.</summary>
    public static FileEvent PackageEvent()
    {
        var e = Event();
        e.EventId = "node-1:19ab3c2d:44";
        e.Path = "/usr/bin/curl";
        e.PathBase64 = null;
        e.Diff = null;
        e.Actor = null;
        e.Package = new PackageInfo
        {
            Manager = PackageInfo.Dpkg,
            Name = "curl",
            VersionBefore = "7.88.1-10+deb12u7",
            VersionAfter = "7.88.1-10+deb12u8",
            Verified = true,
            UpdatedAt = T0.AddSeconds(-3),
        };
        return e;
    }

    public static MaintenanceWindow MaintenanceWindow() => new()
    {
        Id = "mw-0123456789ab",
        Start = T0,
        End = T0.AddHours(2),
        MatchLabels = new Dictionary<string, string> { ["role"] = "web" },
        Reason = "monthly patching, CHG-1234",
        LevelReduction = 5,
        CreatedBy = "alice@example.org",
        CreatedAt = T0.AddMinutes(-1),
        EndedAt = T0.AddHours(1),
        EndedBy = "bob@example.org",
    };

    public static Alert Alert()
    {
        var alert = Contracts.Alert.For(Event(), new RuleRef { Id = "550", Level = 7, Description = "Integrity checksum changed." }, 7,
            ["pci_dss:11.5", "nist_800_53:SI.7"], ["web", "prod"]);
        alert.Labels = new Dictionary<string, string> { ["role"] = "web", ["topology.kubernetes.io/zone"] = "eu-west-1a" };
        return alert;
    }

    public static Heartbeat Heartbeat()
    {
        var scan = new HeartbeatScan("prod/web-config", "startup", T0, 1234, 2, 85.2);
        return new Heartbeat
        {
            AgentId = "node-1",
            Hostname = "node-1.example.org",
            Version = "1.0.0.0",
            BootId = "19ab3c2d4e5f6a7b8",
            Labels = new Dictionary<string, string> { ["role"] = "web" },
            AppliedPolicies = new Dictionary<string, long> { ["prod/web-config"] = 7 },
            PolicyErrors = new Dictionary<string, string> { ["prod/broken"] = "the value is not valid JSON" },
            Policies =
            [
                new HeartbeatPolicy("prod.web-config", "prod/web-config", 7, "running", null, new string('3', 64), scan),
                new HeartbeatPolicy("prod.broken", "prod/broken", 2, "invalid", "the value is not valid JSON", null, null),
            ],
            LastScan = scan,
            BaselineDigest = new string('9', 64),
            Outbox = new HeartbeatOutbox(3, 4096, 100_000, false, 1),
            Time = T0,
            WhoData = new Dictionary<string, WhoDataStatus>
            {
                ["prod/web-config"] = new(WhoDataStatus.FanotifyProc, "eBPF process table: BPF object failed to load (Operation not permitted)"),
            },
        };
    }

    public static Heartbeat HeartbeatWithDrift()
    {
        var scan = new HeartbeatScan("prod/web-config", "schedule", T0, 1234, 3, 85.2, Errors: 1);
        var drift = new HeartbeatDrift(1, 2, 0, T0.AddDays(-1), "7c1d2e3f-rebaseline", "kubernetes-admin");
        return Heartbeat() with
        {
            Policies = [new HeartbeatPolicy("prod.web-config", "prod/web-config", 7, "running", null, new string('3', 64), scan, drift)],
            LastScan = scan,
        };
    }

    public static PolicyDocument PolicyDocument() => new()
    {
        Revision = 7,
        Name = "prod/web-config",
        Selector = new LabelSelector
        {
            MatchLabels = new Dictionary<string, string> { ["role"] = "web" },
            MatchExpressions =
            [
                new LabelRequirement("zone", "In", ["eu-west-1a", "eu-west-1b"]),
                new LabelRequirement("canary", "DoesNotExist", null),
            ],
        },
        Spec = JsonDocument.Parse("""{"paths":[{"path":"/etc","recursive":true,"exclude":["*.swp"],"hashes":["sha256"]}],"schedule":{"rescanInterval":"12h"},"severity":5,"tags":["pci_dss:11.5"]}""").RootElement.Clone(),
    };

    public static AgentCommand StateCommand() => AgentCommand.State("/etc/passwd");

    public static AgentReply ScanReply() => new() { Ok = true, Started = ["prod/web-config"], Time = T0 };

    public static AgentReply StateReply() => new() { Ok = true, Policy = "prod/web-config", Path = "/etc/passwd", State = State(2048, new string('f', 64)) };

    public static ScanRecord ScanRecord() => new()
    {
        ScanId = "3f2a9c0d1e4b5a6978877665",
        AgentId = "web-1",
        Host = "web-1.example.com",
        Labels = new Dictionary<string, string> { ["role"] = "web", ["zone"] = "eu-1a" },
        Policy = "prod/web-config",
        PolicyRevision = 7,
        Trigger = "schedule",
        StartedAt = T0.AddSeconds(-2),
        FinishedAt = T0,
        DurationMs = 2000.5,
        Files = 1200,
        Directories = 80,
        BytesHashed = 52428800,
        Added = 1,
        Changed = 2,
        Removed = 3,
        Errors = 0,
        Result = Contracts.ScanRecord.ResultChanged,
        BaselineDigest = new string('d', 64),
        ScheduleSeconds = 3600,
    };
}

/// <summary>Security events decoded from the tools' documented lines, as agent and ingest endpoint make them.</summary>
public static class SecuritySamplesEvents
{
    public static FileEvent Falco()
    {
        var record = Fim.Core.Sources.SecurityDecoder.Decode(SecurityRecord.Falco, System.Text.Encoding.UTF8.GetBytes(Fim.Testing.SecuritySamples.FalcoShell)).Record!;
        var e = Fim.Core.Sources.SecurityEvents.Create(record, "node-1", "node-1.example.org", "prod/falco", "/var/log/falco/events.json", Samples.T0);
        e.EventId = "node-1:19ab3c2d:43";
        e.PublishedAt = Samples.T0.AddMilliseconds(5);
        return e;
    }

    public static FileEvent Prowler()
    {
        var record = Fim.Core.Sources.SecurityDecoder.Decode(SecurityRecord.Prowler, System.Text.Encoding.UTF8.GetBytes(Fim.Testing.SecuritySamples.ProwlerFailHigh)).Record!;
        var e = Fim.Core.Sources.SecurityEvents.Create(record, "node-1", "node-1.example.org", "prod/prowler", "/var/log/prowler/scan.ocsf.json", Samples.T0);
        e.EventId = "node-1:19ab3c2d:44";
        return e;
    }
}

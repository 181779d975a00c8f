using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// Where a process runs or a file lives: a container of a Kubernetes pod, or the node itself. Container id and pod uid
/// come from the kernel (the process's cgroup); names, image and owner from the Kubernetes API, and are absent when
/// the agent could not learn them (no API access, a pod not seen yet).
/// </summary>
public sealed class Workload
{
    /// <summary><see cref="Scope"/> of a process in no pod cgroup: the node (host) itself.</summary>
    public const string NodeScope = "node";
    /// <summary><see cref="Scope"/> of a process or file in a pod's container.</summary>
    public const string PodScope = "pod";

    /// <summary>"node" or "pod".</summary>
    public string Scope { get; set; } = NodeScope;
    /// <summary>The runtime's container id (64 hex digits with containerd and CRI-O).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ContainerId { get; set; }
    /// <summary>containerd, cri-o or docker, as the cgroup name says.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ContainerRuntime { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ContainerName { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Image { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PodName { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PodNamespace { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PodUid { get; set; }
    /// <summary>The pod's controller, followed where the name allows: Deployment (through its ReplicaSet), DaemonSet, StatefulSet, Job, CronJob (through its Job).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OwnerKind { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OwnerName { get; set; }

    public static Workload Node() => new() { Scope = NodeScope };
}

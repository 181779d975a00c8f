using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fim.Agent.Kubernetes;

// The few fields of a Pod the agent reads. Kept to what attribution needs, source-generated (AOT-safe), and
// tolerant of everything else a real API server sends.

public sealed class KubePod
{
    public KubeObjectMeta Metadata { get; set; } = new();
    public KubePodSpec? Spec { get; set; }
    public KubePodStatus? Status { get; set; }
}

public sealed class KubeObjectMeta
{
    public string? Name { get; set; }
    public string? Namespace { get; set; }
    public string? Uid { get; set; }
    public string? ResourceVersion { get; set; }
    public Dictionary<string, string>? Labels { get; set; }
    public List<KubeOwnerReference>? OwnerReferences { get; set; }
}

public sealed class KubeOwnerReference
{
    public string? Kind { get; set; }
    public string? Name { get; set; }
    public bool? Controller { get; set; }
}

public sealed class KubePodSpec
{
    public string? NodeName { get; set; }
    public List<KubeContainer>? Containers { get; set; }
}

public sealed class KubeContainer
{
    public string? Name { get; set; }
    public string? Image { get; set; }
}

public sealed class KubePodStatus
{
    public List<KubeContainerStatus>? ContainerStatuses { get; set; }
    public List<KubeContainerStatus>? InitContainerStatuses { get; set; }
    public List<KubeContainerStatus>? EphemeralContainerStatuses { get; set; }
}

public sealed class KubeContainerStatus
{
    public string? Name { get; set; }
    public string? Image { get; set; }
    /// <summary>"&lt;runtime&gt;://&lt;id&gt;", e.g. containerd://3f2a...</summary>
    public string? ContainerID { get; set; }
}

public sealed class KubePodList
{
    public KubeListMeta? Metadata { get; set; }
    public List<KubePod>? Items { get; set; }
}

public sealed class KubeListMeta
{
    public string? ResourceVersion { get; set; }
}

public sealed class KubeWatchEvent
{
    public string? Type { get; set; }
    public JsonElement Object { get; set; }
}

public sealed class KubeStatus
{
    public int? Code { get; set; }
    public string? Message { get; set; }
    public string? Reason { get; set; }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(KubePod))]
[JsonSerializable(typeof(KubePodList))]
[JsonSerializable(typeof(KubeWatchEvent))]
[JsonSerializable(typeof(KubeStatus))]
internal sealed partial class KubeJson : JsonSerializerContext;

namespace Fim.Agent.Kubernetes;

/// <summary>The agent's Kubernetes settings (section <c>Kubernetes</c>, env <c>FIM_Kubernetes__...</c>).</summary>
public sealed class KubernetesOptions
{
    /// <summary>Read this node's pods from the API: null = when running in a pod (KUBERNETES_SERVICE_HOST set).</summary>
    public bool? Enabled { get; set; }
    /// <summary>API server URL; default: the in-cluster service.</summary>
    public string? ApiServer { get; set; }
    /// <summary>Bearer token file; default: the pod's service account token.</summary>
    public string? TokenFile { get; set; }
    /// <summary>CA certificate of the API server; default: the service account's ca.crt.</summary>
    public string? CaFile { get; set; }
    /// <summary>This node's name, the field selector of the pod watch; default: env NODE_NAME.</summary>
    public string? NodeName { get; set; }
    /// <summary>Where the node's processes are: the agent needs the host's pid namespace (hostPID) to see them.</summary>
    public string ProcRoot { get; set; } = "/proc";
    public const string DefaultContainerLinkDir = "/run/fim-agent/containers";
    /// <summary>Where links to the monitored containers' roots are kept (outside the state directory); default /run/fim-agent/containers.</summary>
    public string ContainerLinkDir { get; set; } = DefaultContainerLinkDir;
}

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fim.Agent.Kubernetes;

/// <summary>
/// The connected agent's view of the pods on its node: the directory the resolver and container policies read, and
/// the API endpoint that fills it (null when the agent has no Kubernetes API: then writers are attributed by cgroup
/// only, without names, and container policies wait).
/// </summary>
public sealed class KubernetesAttribution
{
    public KubernetesAttribution(IOptions<Connected.AgentOptions> options)
    {
        var o = options.Value.Kubernetes;
        Processes = new ContainerProcesses(o.ProcRoot);
        Resolver = new WorkloadResolver(Pods, o.ProcRoot);
        LinkDirectory = o.ContainerLinkDir;
        NodeName = o.NodeName ?? Environment.GetEnvironmentVariable("NODE_NAME");
        var inCluster = KubeApiEndpoint.InCluster();
        if (o.Enabled == false || (o.Enabled is null && inCluster is null && o.ApiServer is null))
        {
            return;
        }
        Endpoint = o.ApiServer is { } server
            ? new KubeApiEndpoint(new Uri(server), o.TokenFile, o.CaFile)
            : inCluster is null ? null : inCluster with { TokenFile = o.TokenFile ?? inCluster.TokenFile, CaFile = o.CaFile ?? inCluster.CaFile };
    }

    public PodDirectory Pods { get; } = new();

    public WorkloadResolver Resolver { get; }

    public ContainerProcesses Processes { get; }

    public KubeApiEndpoint? Endpoint { get; }

    public string? NodeName { get; }

    public string LinkDirectory { get; }
}

/// <summary>Keeps <see cref="KubernetesAttribution.Pods"/> current while the agent runs.</summary>
public sealed class PodWatchService(KubernetesAttribution attribution, ILogger<PodWatchService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (attribution.Endpoint is not { } endpoint)
        {
            logger.LogInformation("no Kubernetes API configured: writers are attributed by cgroup only, container policies have no pods");
            return;
        }
        if (string.IsNullOrWhiteSpace(attribution.NodeName))
        {
            logger.LogError("Kubernetes API at {Server} but no node name (Kubernetes:NodeName or NODE_NAME): pods are not read", endpoint.Server);
            return;
        }
        using var watcher = new KubePodWatcher(endpoint, attribution.NodeName, attribution.Pods, logger);
        await watcher.RunAsync(stoppingToken);
    }
}

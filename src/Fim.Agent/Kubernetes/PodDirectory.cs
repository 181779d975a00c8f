using Fim.Contracts;

namespace Fim.Agent.Kubernetes;

/// <summary>One container of a pod on this node, as the API describes it.</summary>
public sealed record PodContainer(string Name, string? Image, string? ContainerId, string? Runtime);

/// <summary>A pod on this node, reduced to what attribution and container monitoring need.</summary>
public sealed record PodInfo(string Uid, string Name, string Namespace, IReadOnlyDictionary<string, string> Labels,
    string? OwnerKind, string? OwnerName, IReadOnlyList<PodContainer> Containers)
{
    public static PodInfo? From(KubePod pod)
    {
        var m = pod.Metadata;
        if (m.Uid is null || m.Name is null)
        {
            return null;
        }
        var images = (pod.Spec?.Containers ?? []).Where(c => c.Name is not null).GroupBy(c => c.Name!).ToDictionary(g => g.Key, g => g.First().Image);
        var containers = new List<PodContainer>();
        foreach (var s in (pod.Status?.ContainerStatuses ?? []).Concat(pod.Status?.InitContainerStatuses ?? []).Concat(pod.Status?.EphemeralContainerStatuses ?? []))
        {
            if (s.Name is null)
            {
                continue;
            }
            var (runtime, id) = SplitContainerId(s.ContainerID);
            // The spec's image is what was asked for and stays the same across restarts; the status may show a digest.
            containers.Add(new PodContainer(s.Name, images.GetValueOrDefault(s.Name) ?? s.Image, id, runtime));
        }
        var (kind, name) = Owner(m);
        return new PodInfo(m.Uid, m.Name, m.Namespace ?? "default", m.Labels ?? [], kind, name, containers);
    }

    /// <summary>The workload of container <paramref name="containerId"/> (or the pod as a whole when null or unknown).</summary>
    public Workload Describe(string? containerId, string? runtime)
    {
        var container = containerId is null ? null : Containers.FirstOrDefault(c => c.ContainerId == containerId);
        return new Workload
        {
            Scope = Workload.PodScope,
            ContainerId = containerId,
            ContainerRuntime = runtime ?? container?.Runtime,
            ContainerName = container?.Name,
            Image = container?.Image,
            PodName = Name,
            PodNamespace = Namespace,
            PodUid = Uid,
            OwnerKind = OwnerKind,
            OwnerName = OwnerName,
        };
    }

    private static (string? Runtime, string? Id) SplitContainerId(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return (null, null);
        }
        var sep = value.IndexOf("://", StringComparison.Ordinal);
        return sep < 0 ? (null, value) : (value[..sep] == "cri-o" ? "cri-o" : value[..sep], value[(sep + 3)..]);
    }

    /// <summary>
    /// The controller, followed one step where its name says so without asking the API (the agent may read pods
    /// only): a ReplicaSet named &lt;deployment&gt;-&lt;pod-template-hash&gt;, with the pod labelled with that hash,
    /// belongs to that Deployment; a Job named &lt;cronjob&gt;-&lt;scheduled minute, 8 digits&gt; to that CronJob. Any
    /// other owner is reported as its reference says. docs/agent-connected.md ("Owner kinds") states the same rules.
    /// </summary>
    private static (string? Kind, string? Name) Owner(KubeObjectMeta m)
    {
        var owner = m.OwnerReferences?.FirstOrDefault(o => o.Controller == true) ?? m.OwnerReferences?.FirstOrDefault();
        if (owner?.Kind is null || owner.Name is null)
        {
            return (null, null);
        }
        if (owner.Kind == "ReplicaSet" && m.Labels?.GetValueOrDefault("pod-template-hash") is { Length: > 0 } hash
            && owner.Name.EndsWith("-" + hash, StringComparison.Ordinal))
        {
            return ("Deployment", owner.Name[..^(hash.Length + 1)]);
        }
        if (owner.Kind == "Job" && CronJobName(owner.Name) is { } cronJob)
        {
            return ("CronJob", cronJob);
        }
        return (owner.Kind, owner.Name);
    }

    /// <summary>The CronJob controller names its Jobs &lt;name&gt;-&lt;scheduled time in minutes since the epoch&gt;.</summary>
    private static string? CronJobName(string job)
    {
        var dash = job.LastIndexOf('-');
        if (dash <= 0)
        {
            return null;
        }
        var suffix = job.AsSpan(dash + 1);
        // Minutes since 1970 have had 8 digits since 1989 and will until 2160.
        return suffix.Length == 8 && long.TryParse(suffix, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)
            ? job[..dash]
            : null;
    }
}

/// <summary>
/// The pods of this node, kept current by <see cref="KubePodWatcher"/>, indexed by pod uid and by container id (the
/// resolver's cache: a container id never changes its pod or name).
/// </summary>
public sealed class PodDirectory
{
    private readonly Lock _gate = new();
    private Dictionary<string, PodInfo> _byUid = new(StringComparer.Ordinal);
    private Dictionary<string, PodInfo> _byContainer = new(StringComparer.Ordinal);

    /// <summary>Raised after any change (a pod added, changed or gone), outside the lock.</summary>
    public event Action? Changed;

    /// <summary>True once a full list has been read.</summary>
    public bool Synced { get; private set; }

    public PodInfo? ByUid(string uid)
    {
        lock (_gate)
        {
            return _byUid.GetValueOrDefault(uid);
        }
    }

    public PodInfo? ByContainerId(string id)
    {
        lock (_gate)
        {
            return _byContainer.GetValueOrDefault(id);
        }
    }

    public IReadOnlyList<PodInfo> All()
    {
        lock (_gate)
        {
            return [.. _byUid.Values];
        }
    }

    public void Replace(IEnumerable<PodInfo> pods)
    {
        lock (_gate)
        {
            _byUid = pods.ToDictionary(p => p.Uid, StringComparer.Ordinal);
            Reindex();
            Synced = true;
        }
        Changed?.Invoke();
    }

    public void Upsert(PodInfo pod)
    {
        lock (_gate)
        {
            _byUid[pod.Uid] = pod;
            Reindex();
        }
        Changed?.Invoke();
    }

    public void Remove(string uid)
    {
        lock (_gate)
        {
            _byUid.Remove(uid);
            Reindex();
        }
        Changed?.Invoke();
    }

    private void Reindex()
    {
        var index = new Dictionary<string, PodInfo>(StringComparer.Ordinal);
        foreach (var pod in _byUid.Values)
        {
            foreach (var c in pod.Containers)
            {
                if (c.ContainerId is { } id)
                {
                    index[id] = pod;
                }
            }
        }
        _byContainer = index;
    }
}

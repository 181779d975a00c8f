using System.Text.RegularExpressions;

namespace Fim.Agent.Kubernetes;

/// <summary>
/// What a process's cgroup path says about it: the pod uid and container id the kubelet and the runtime wrote into
/// the names. Both cgroup drivers and the usual runtimes:
/// systemd <c>kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod&lt;uid_with_underscores&gt;.slice/cri-containerd-&lt;id&gt;.scope</c>
/// (<c>crio-&lt;id&gt;.scope</c>, <c>docker-&lt;id&gt;.scope</c>), cgroupfs <c>/kubepods/burstable/pod&lt;uid&gt;/&lt;id&gt;</c>, and
/// containerd's own <c>kubepods-...-pod&lt;uid&gt;.slice:cri-containerd:&lt;id&gt;</c>. Segments before the pod (a cgroup
/// namespace's "/..", a parent slice) and below the container (nested cgroups) do not matter.
/// </summary>
public sealed partial record CgroupIdentity(string PodUid, string? ContainerId, string? Runtime)
{
    [GeneratedRegex(@"^(?:kubepods(?:-[a-z]+)*-)?pod([0-9a-fA-F]{8}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{12})(?:\.slice)?$")]
    private static partial Regex PodSegment();

    [GeneratedRegex(@"^(?:(cri-containerd|crio|docker|containerd)-)?([0-9a-f]{64})(?:\.scope)?$")]
    private static partial Regex ContainerSegment();

    /// <summary>The identity in <paramref name="cgroupPath"/>, or null when it names no pod (the node's own processes).</summary>
    public static CgroupIdentity? Parse(string cgroupPath)
    {
        var segments = cgroupPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < segments.Length; i++)
        {
            // containerd without systemd management writes "<pod slice>:cri-containerd:<id>" as one name.
            var parts = segments[i].Split(':');
            var pod = PodSegment().Match(parts[0]);
            if (!pod.Success)
            {
                continue;
            }
            var uid = pod.Groups[1].Value.Replace('_', '-').ToLowerInvariant();
            if (parts.Length == 3)
            {
                var inline = ContainerSegment().Match($"{parts[1]}-{parts[2]}");
                return inline.Success ? new CgroupIdentity(uid, inline.Groups[2].Value, RuntimeName(inline.Groups[1].Value)) : new CgroupIdentity(uid, null, null);
            }
            if (i + 1 < segments.Length && ContainerSegment().Match(segments[i + 1]) is { Success: true } container)
            {
                return new CgroupIdentity(uid, container.Groups[2].Value, RuntimeName(container.Groups[1].Value));
            }
            // In the pod's cgroup but in no container of it (crio-conmon-<id>.scope, the pod cgroup itself).
            return new CgroupIdentity(uid, null, null);
        }
        return null;
    }

    /// <summary>
    /// The identity in the text of <c>/proc/&lt;pid&gt;/cgroup</c>: the cgroup v2 line ("0::/path") or, on cgroup v1, the
    /// first hierarchy line whose path names a pod (every v1 hierarchy carries the same kubelet names).
    /// </summary>
    public static CgroupIdentity? FromProcCgroup(string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "hierarchy-id:controllers:path"; the path itself may hold ':' (containerd's inline form).
            var first = line.IndexOf(':');
            var second = first < 0 ? -1 : line.IndexOf(':', first + 1);
            if (second < 0)
            {
                continue;
            }
            if (Parse(line[(second + 1)..]) is { } identity)
            {
                return identity;
            }
        }
        return null;
    }

    private static string? RuntimeName(string prefix) => prefix switch
    {
        "cri-containerd" or "containerd" => "containerd",
        "crio" => "cri-o",
        "docker" => "docker",
        _ => null,
    };
}

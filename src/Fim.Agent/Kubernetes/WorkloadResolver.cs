using Fim.Contracts;

namespace Fim.Agent.Kubernetes;

/// <summary>
/// Process to workload: the container id and pod uid from the process's cgroup, names, image and owner from the
/// pods of this node. The cgroup is read when <see cref="ForPid"/> is called, never from a cache keyed by pid, so a
/// reused pid cannot inherit another process's pod; callers that captured the cgroup at write time pass it to
/// <see cref="ForProcCgroup"/> instead.
/// </summary>
public sealed class WorkloadResolver(PodDirectory? pods, string procRoot = "/proc")
{
    /// <summary>The workload of process <paramref name="pid"/> now, or null when it is gone or unreadable.</summary>
    public Workload? ForPid(int pid)
    {
        if (pid <= 0)
        {
            return null;
        }
        string text;
        try
        {
            text = File.ReadAllText(Path.Combine(procRoot, pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "cgroup"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return ForProcCgroup(text);
    }

    /// <summary>The workload named by the text of a <c>/proc/&lt;pid&gt;/cgroup</c> file.</summary>
    public Workload ForProcCgroup(string text) => Describe(CgroupIdentity.FromProcCgroup(text));

    public Workload Describe(CgroupIdentity? identity)
    {
        if (identity is null)
        {
            return Workload.Node();
        }
        var pod = (identity.ContainerId is { } id ? pods?.ByContainerId(id) : null) ?? pods?.ByUid(identity.PodUid);
        return pod is not null
            ? pod.Describe(identity.ContainerId, identity.Runtime)
            : new Workload
            {
                // The kernel says which pod; the API has not (yet) told us its name.
                Scope = Workload.PodScope,
                PodUid = identity.PodUid,
                ContainerId = identity.ContainerId,
                ContainerRuntime = identity.Runtime,
            };
    }

    /// <summary>
    /// Fills <see cref="Actor.Workload"/> of an event whose actor has a pid and no workload yet: from the cgroup
    /// who-data captured with the writer (<see cref="WhoData.WriterCgroups"/>), else from the process's cgroup now.
    /// An actor that who-data could not name (<see cref="Actor.Unknown"/>) gets none: its pid may be another process's by now.
    /// </summary>
    public void Attribute(FileEvent e)
    {
        if (e.Actor is { Pid: { } pid, Workload: null } actor)
        {
            actor.Workload = WhoData.WriterCgroups.Of(actor) is { } captured ? ForProcCgroup(captured)
                : actor.Unknown is null ? ForPid(pid) : null;
        }
    }
}

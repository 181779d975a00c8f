using System.Runtime.CompilerServices;
using Fim.Contracts;

namespace Fim.Agent.WhoData;

/// <summary>
/// The writer's cgroup as who-data found it when the event was read (from the kernel feed, or /proc while the
/// writer lived), kept beside its <see cref="Actor"/> until the event is committed, where the connected agent turns it
/// into a pod. Reading /proc/&lt;pid&gt;/cgroup at commit time instead would miss a writer that has exited and could
/// name the pod of a process that took its pid. Not on the wire: the actor's <c>workload</c> is.
/// </summary>
public static class WriterCgroups
{
    private static readonly ConditionalWeakTable<Actor, string> Texts = new();

    /// <param name="procCgroupText">Text in the form of /proc/&lt;pid&gt;/cgroup (a "0::/path" line for cgroup v2).</param>
    public static void Remember(Actor actor, string procCgroupText) => Texts.AddOrUpdate(actor, procCgroupText);

    /// <summary>What <see cref="Remember"/> recorded for <paramref name="actor"/>, or null.</summary>
    public static string? Of(Actor actor) => Texts.TryGetValue(actor, out var text) ? text : null;
}

using System.Text.RegularExpressions;
using Fim.Contracts;

namespace Fim.Core.Policy;

/// <summary>
/// The pods whose containers a policy monitors (the policy's <c>pods</c> key). With it, the policy's paths are paths
/// as each selected container sees them (/etc, /usr/bin), not the node's.
/// </summary>
public sealed class PodSelectionSpec
{
    /// <summary>Namespaces the pods may be in; empty = any.</summary>
    public List<string> Namespaces { get; set; } = [];
    /// <summary>Pod labels that must all match.</summary>
    public Dictionary<string, string>? MatchLabels { get; set; }
    /// <summary>Further label requirements (In, NotIn, Exists, DoesNotExist).</summary>
    public List<PodLabelRequirement> MatchExpressions { get; set; } = [];
    /// <summary>Container names to monitor in each pod; empty = every container.</summary>
    public List<string> Containers { get; set; } = [];
}

public sealed class PodLabelRequirement
{
    public string Key { get; set; } = "";
    public string Operator { get; set; } = "";
    public List<string> Values { get; set; } = [];
}

/// <summary>A validated pod selection: which pods (namespace, labels) and which of their containers.</summary>
public sealed record PodSelection(IReadOnlyList<string> Namespaces, LabelSelector Labels, IReadOnlyList<string> Containers)
{
    public bool SelectsPod(string ns, IReadOnlyDictionary<string, string> labels) =>
        (Namespaces.Count == 0 || Namespaces.Contains(ns)) && Labels.Matches(labels);

    public bool SelectsContainer(string name) => Containers.Count == 0 || Containers.Contains(name);
}

public static partial class PodSelectionCompiler
{
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    internal static PodSelection? Compile(PodSelectionSpec? spec, ProblemList problems)
    {
        if (spec is null)
        {
            return null;
        }
        for (var i = 0; i < spec.Namespaces.Count; i++)
        {
            if (spec.Namespaces[i] is not { } ns || !DnsLabel().IsMatch(ns))
            {
                problems.Add(FieldPaths.Item("pods.namespaces", i), $"'{spec.Namespaces[i]}' is not a namespace name (lower-case letters, digits and '-', at most 63)");
            }
        }
        for (var i = 0; i < spec.Containers.Count; i++)
        {
            if (spec.Containers[i] is not { } name || !DnsLabel().IsMatch(name))
            {
                problems.Add(FieldPaths.Item("pods.containers", i), $"'{spec.Containers[i]}' is not a container name (lower-case letters, digits and '-', at most 63)");
            }
        }
        foreach (var key in (spec.MatchLabels ?? []).Keys.Where(k => k.Trim().Length == 0))
        {
            problems.Add(FieldPaths.Entry("pods.matchLabels", key), "label names must not be empty");
        }
        var selector = new LabelSelector
        {
            MatchLabels = spec.MatchLabels is { Count: > 0 } labels ? new Dictionary<string, string>(labels, StringComparer.Ordinal) : null,
            MatchExpressions = spec.MatchExpressions.Count == 0 ? null : [.. spec.MatchExpressions.Select(r => new LabelRequirement(r.Key, r.Operator, r.Values.Count == 0 ? null : r.Values))],
        };
        if (selector.Problem() is { } problem)
        {
            problems.Add("pods.matchExpressions", problem);
        }
        return new PodSelection([.. spec.Namespaces], selector, [.. spec.Containers]);
    }
}

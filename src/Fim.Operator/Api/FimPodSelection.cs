namespace Fim.Operator.Api;

/// <summary>Mirrors Fim.Core.Policy.PodSelectionSpec: the pods whose containers' files a policy monitors.</summary>
[Description("Monitor files inside the containers of these pods on each selected node; paths are then as the containers see them (/etc, /usr/bin). Unset: the node's own files.")]
public sealed class FimPodSelection
{
    [Description("Namespaces the pods may be in; empty = any.")]
    public List<string>? Namespaces { get; set; }

    [Description("Pod labels that must all match.")]
    public Dictionary<string, string>? MatchLabels { get; set; }

    [Description("Further pod label requirements; all must hold.")]
    public List<SelectorRequirement>? MatchExpressions { get; set; }

    [Description("Container names to monitor in each pod; empty = every container.")]
    public List<string>? Containers { get; set; }
}

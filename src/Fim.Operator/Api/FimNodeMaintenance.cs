namespace Fim.Operator.Api;

/// <summary>
/// What the agents of this policy do while their node is held for maintenance (cordoned, or annotated
/// fim.io/maintenance): they keep detecting and recording; their alerts are lowered and tagged by a maintenance window
/// the operator opens for the node, and when the node comes back <see cref="OnReturn"/> happens. Operator-only: it is
/// not part of the policy document agents read.
/// </summary>
[Description("Hold-off while the node is cordoned or annotated fim.io/maintenance: alerts are lowered and tagged, and onReturn happens when it comes back (docs/operator.md).")]
public sealed class FimNodeMaintenance
{
    public const string Summary = "summary";
    public const string Rebaseline = "rebaseline";
    public const string None = "none";

    [Description("Open a maintenance window for a cordoned or annotated node. Default true.")]
    public bool? HoldOff { get; set; }

    [Range(0, 15), Description("Levels the node's alerts drop during the hold-off (a level never drops below 1). Default 5.")]
    public int? LevelReduction { get; set; }

    [EnumValues(Summary, Rebaseline, None), Description("When the node comes back: summary (what changed during the hold-off: counts by kind and top paths, to the managers' webhook sink), rebaseline (the node's agent accepts its state as this policy's new baseline, as fim.io/rebaseline does) or none. Default summary.")]
    public string? OnReturn { get; set; }
}

namespace Fim.Operator.Controllers.NodeStatus;

/// <summary>
/// What the per-node status controller needs beyond the operator's own inputs: how to reach agents (null: re-baselines
/// fail, saying so) and the managers' counts of unreviewed high-level alerts (null: the statuses leave them out).
/// </summary>
public sealed record NodeStatusSetup(IAgentRebaseliner? Rebaseliner, NodeStatusOptions Options, IUnreviewedAlertCounts? Unreviewed = null);

/// <summary>Each agent's unreviewed alerts at level 10 and above, as the managers count them from the store.</summary>
public interface IUnreviewedAlertCounts
{
    /// <summary>The count for an agent, or null while unknown (the counts have not been read yet).</summary>
    long? CountOf(string agentId);

    /// <summary>Raised after any count changed.</summary>
    event Action? Changed;
}

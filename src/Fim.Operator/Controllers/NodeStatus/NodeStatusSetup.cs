namespace Fim.Operator.Controllers.NodeStatus;

/// <summary>What the per-node status controller needs beyond the operator's own inputs: how to reach agents (null: re-baselines fail, saying so).</summary>
public sealed record NodeStatusSetup(IAgentRebaseliner? Rebaseliner, NodeStatusOptions Options);

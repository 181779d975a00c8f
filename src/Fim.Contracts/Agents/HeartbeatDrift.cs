using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// A policy's drift since its last accepted baseline, as the agent counts it: the changes it reported (events of kind
/// added; removed; every other kind but baseline-reset counts as changed) since the policy was first baselined on this
/// node or last re-baselined by the operator. Kept on the agent's disk, so a restart does not forget it; set back to
/// zero only by a <see cref="AgentCommand.RebaselineName"/> command. Counts events, not distinct paths: a file changed
/// three times counts three.
/// </summary>
/// <param name="Added">Events of kind added since <paramref name="Since"/>.</param>
/// <param name="Changed">Every other change (content, attributes, type, rotation, ...) since then.</param>
/// <param name="Removed">Events of kind removed since then.</param>
/// <param name="Since">When the current baseline was accepted (first baseline, or the last re-baseline).</param>
/// <param name="Rebaseline">The request id of the last re-baseline this agent applied to the policy (absent: none yet).</param>
/// <param name="AcceptedBy">Who asked for that re-baseline, as the request named them.</param>
public sealed record HeartbeatDrift(
    long Added,
    long Changed,
    long Removed,
    DateTimeOffset Since,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Rebaseline = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AcceptedBy = null)
{
    [JsonIgnore]
    public long Total => Added + Changed + Removed;
}

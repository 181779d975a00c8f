namespace Fim.Contracts;

/// <summary>
/// The value of KV fim-unreviewed-alerts key &lt;agentId&gt;, version 1: how many of an agent's stored alerts at or above
/// <see cref="MinLevel"/> nobody has reviewed yet (no review, or one set back to new), as a manager counted them from
/// its store. Managers write a key only when its count changes and delete it when none are left; the operator shows
/// the count in the agent's FimNodeStatus objects.
/// </summary>
public sealed record UnreviewedAlerts
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>The level from which an alert counts as high (Wazuh's scale: 10 and above need attention).</summary>
    public const int HighLevel = 10;

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    public required string AgentId { get; init; }
    public required int MinLevel { get; init; }
    /// <summary>Unreviewed alerts of this agent at or above <see cref="MinLevel"/> among all stored (every policy).</summary>
    public required long Count { get; init; }
    public required DateTimeOffset CountedAt { get; init; }
}

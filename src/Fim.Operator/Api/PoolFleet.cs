namespace Fim.Operator.Api;

[Description("Agent lifecycle settings of the managers (Fim:Fleet, docs/manager.md): when an agent counts as disconnected and when disconnected agents are removed automatically.")]
public sealed class PoolFleet
{
    public const string DurationPattern = "^[0-9]+(s|m|h|d)$";

    [Pattern(DurationPattern), Description("An agent without a heartbeat for this long is disconnected, e.g. 5m (Fim:Fleet:DisconnectedAfter; the manager's default is 5m).")]
    public string? DisconnectedAfter { get; set; }

    [Pattern(DurationPattern), Description("Remove disconnected agents automatically once their last heartbeat is this old, e.g. 7d (Fim:Fleet:PruneAfter); absent or 0s: never. At least disconnectedAfter. Their alerts stay.")]
    public string? PruneAfter { get; set; }
}

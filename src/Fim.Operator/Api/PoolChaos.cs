namespace Fim.Operator.Api;

/// <summary>Opt-in chaos testing of a pool: the operator deletes one ready manager pod at random intervals.</summary>
[Description("Chaos mode (off unless podKillInterval is set): delete one ready manager pod at random intervals around podKillInterval, never when fewer than two are ready.")]
public sealed class PoolChaos
{
    [Description("Mean time between pod deletions, a duration like 30s, 5m or 1h (at least 1s); each interval is drawn between half and one and a half times it."), Pattern("^[0-9]+[smhd]$")]
    public string? PodKillInterval { get; set; }
}

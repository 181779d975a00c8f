using Fim.Operator.Api;
using Fim.Operator.Controllers.Pool;

namespace Fim.Operator.Controllers.Chaos;

/// <summary>A pool's <see cref="PoolChaos"/>: checked like the rest of the spec (InvalidSpec naming the field).</summary>
public static class PoolChaosSettings
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    /// <summary>The mean interval between pod deletions; null when chaos is off (or the spec is invalid).</summary>
    public static TimeSpan? Interval(PoolChaos? chaos) =>
        PoolFleetSettings.Parse(chaos?.PodKillInterval) is { } i && i >= MinInterval ? i : null;

    public static IReadOnlyList<string> Problems(PoolChaos? chaos)
    {
        if (chaos?.PodKillInterval is not { } text)
        {
            return [];
        }

        return PoolFleetSettings.Parse(text) switch
        {
            null => [$"chaos.podKillInterval: '{text}' is not a duration like 30s, 5m, 12h or 7d"],
            var i when i < MinInterval => [$"chaos.podKillInterval: must be at least 1s, got {text}"],
            _ => [],
        };
    }

    /// <summary>The next interval: uniform between half and one and a half times the mean, so kills do not fall into step with anything.</summary>
    public static TimeSpan Next(TimeSpan mean, Random random) => TimeSpan.FromTicks((long)(mean.Ticks * (0.5 + random.NextDouble())));
}

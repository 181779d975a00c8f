using System.Globalization;
using Fim.Operator.Api;
using k8s.Models;

namespace Fim.Operator.Controllers.Pool;

/// <summary>A pool's <see cref="PoolFleet"/> as the managers' Fim__Fleet__* settings (durations like 5m to TimeSpan text).</summary>
public static class PoolFleetSettings
{
    /// <summary>The manager's own default (FleetOptions.DisconnectedAfter), for the cross-field check.</summary>
    private static readonly TimeSpan DefaultDisconnectedAfter = TimeSpan.FromMinutes(5);

    /// <summary>"30s", "5m", "12h", "7d" to a TimeSpan; null when it is not one.</summary>
    public static TimeSpan? Parse(string? duration)
    {
        if (duration is not { Length: >= 2 } d || !long.TryParse(d.AsSpan(0, d.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 36_500L * 86_400)
        {
            return null;
        }

        return d[^1] switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' when n <= 36_500L * 1440 => TimeSpan.FromMinutes(n),
            'h' when n <= 36_500L * 24 => TimeSpan.FromHours(n),
            'd' when n <= 36_500 => TimeSpan.FromDays(n),
            _ => null,
        };
    }

    public static IReadOnlyList<string> Problems(PoolFleet? fleet)
    {
        var problems = new List<string>();
        if (fleet is null)
        {
            return problems;
        }

        var disconnected = Parse(fleet.DisconnectedAfter);
        var prune = Parse(fleet.PruneAfter);
        if (fleet.DisconnectedAfter is not null && disconnected is null)
        {
            problems.Add($"fleet.disconnectedAfter: '{fleet.DisconnectedAfter}' is not a duration like 30s, 5m, 12h or 7d");
        }
        else if (disconnected is { } dv2 && (dv2 < TimeSpan.FromSeconds(1) || dv2 > TimeSpan.FromDays(30)))
        {
            problems.Add($"fleet.disconnectedAfter: must be 1s to 30d, got {fleet.DisconnectedAfter}");
        }

        if (fleet.PruneAfter is not null && prune is null)
        {
            problems.Add($"fleet.pruneAfter: '{fleet.PruneAfter}' is not a duration like 30s, 5m, 12h or 7d");
        }
        else if (prune is { } p && p > TimeSpan.Zero && p < (disconnected ?? DefaultDisconnectedAfter))
        {
            problems.Add($"fleet.pruneAfter ({fleet.PruneAfter}) must be at least fleet.disconnectedAfter ({fleet.DisconnectedAfter ?? "5m"}) or 0s (off)");
        }

        return problems;
    }

    public static void Add(PoolFleet? fleet, List<V1EnvVar> env)
    {
        if (Parse(fleet?.DisconnectedAfter) is { } disconnected)
        {
            env.Add(new V1EnvVar { Name = "Fim__Fleet__DisconnectedAfter", Value = disconnected.ToString("c", CultureInfo.InvariantCulture) });
        }

        if (Parse(fleet?.PruneAfter) is { } prune)
        {
            env.Add(new V1EnvVar { Name = "Fim__Fleet__PruneAfter", Value = prune.ToString("c", CultureInfo.InvariantCulture) });
        }
    }
}

using Microsoft.Extensions.Options;

namespace Fim.Manager.Fleet;

/// <summary>Agent lifecycle and the live fleet query (section Fim:Fleet), docs/manager.md.</summary>
public sealed class FleetOptions
{
    public const string Section = "Fim:Fleet";

    /// <summary>An agent without a heartbeat for this long is disconnected (agents send one every 30 s by default).</summary>
    public TimeSpan DisconnectedAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Remove disconnected agents automatically once their last heartbeat is this old; zero (the default) never does.</summary>
    public TimeSpan PruneAfter { get; set; } = TimeSpan.Zero;

    /// <summary>How often the automatic prune looks for agents to remove.</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a fleet query waits for answers when the caller does not say.</summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest deadline a caller may ask of a fleet query.</summary>
    public TimeSpan MaxQueryTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests of one fleet query in flight at once.</summary>
    public int QueryConcurrency { get; set; } = 256;
}

public sealed class FleetOptionsValidator : IValidateOptions<FleetOptions>
{
    public ValidateOptionsResult Validate(string? name, FleetOptions o)
    {
        var errors = new List<string>();
        var s = FleetOptions.Section;
        if (o.DisconnectedAfter < TimeSpan.FromSeconds(1) || o.DisconnectedAfter > TimeSpan.FromDays(30))
        {
            errors.Add($"{s}:DisconnectedAfter: must be 1 second to 30 days, got {o.DisconnectedAfter}");
        }
        if (o.PruneAfter < TimeSpan.Zero)
        {
            errors.Add($"{s}:PruneAfter: must not be negative (0 turns the automatic prune off), got {o.PruneAfter}");
        }
        else if (o.PruneAfter > TimeSpan.Zero && o.PruneAfter < o.DisconnectedAfter)
        {
            errors.Add($"{s}:PruneAfter: must be at least DisconnectedAfter ({o.DisconnectedAfter}) or 0 (off), got {o.PruneAfter}");
        }
        if (o.PruneInterval < TimeSpan.FromMilliseconds(100) || o.PruneInterval > TimeSpan.FromDays(1))
        {
            errors.Add($"{s}:PruneInterval: must be 100 ms to 1 day, got {o.PruneInterval}");
        }
        if (o.MaxQueryTimeout < TimeSpan.FromMilliseconds(100) || o.MaxQueryTimeout > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{s}:MaxQueryTimeout: must be 100 ms to 10 minutes, got {o.MaxQueryTimeout}");
        }
        if (o.QueryTimeout < TimeSpan.FromMilliseconds(100) || o.QueryTimeout > o.MaxQueryTimeout)
        {
            errors.Add($"{s}:QueryTimeout: must be 100 ms to MaxQueryTimeout ({o.MaxQueryTimeout}), got {o.QueryTimeout}");
        }
        if (o.QueryConcurrency is < 1 or > 10000)
        {
            errors.Add($"{s}:QueryConcurrency: must be 1..10000, got {o.QueryConcurrency}");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

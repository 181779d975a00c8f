using Microsoft.Extensions.Options;

namespace Fim.Manager.Maintenance;

/// <summary>Maintenance windows (section Fim:Maintenance), docs/manager.md.</summary>
public sealed class MaintenanceOptions
{
    public const string Section = "Fim:Maintenance";

    /// <summary>Levels an alert drops during a window unless the window says otherwise.</summary>
    public int LevelReduction { get; set; } = 5;

    /// <summary>The longest window anyone may open.</summary>
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How far ahead a window may start.</summary>
    public TimeSpan MaxLeadTime { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How far back a window may start (a patch that began a few minutes before someone opened the window).</summary>
    public TimeSpan MaxBackdate { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long after a window that asks for a summary closes its summary is made (changes still on their way get judged
    /// first). Longer than the agents' default packages.settleTimeout (30 s): an agent holds a change dpkg is making until
    /// dpkg settles, so the last changes of an upgrade reach the managers up to that long after they happened.
    /// </summary>
    public TimeSpan SummaryDelay { get; set; } = TimeSpan.FromSeconds(45);
}

public sealed class MaintenanceOptionsValidator : IValidateOptions<MaintenanceOptions>
{
    public ValidateOptionsResult Validate(string? name, MaintenanceOptions o)
    {
        var errors = new List<string>();
        if (o.LevelReduction is < 0 or > 15)
        {
            errors.Add($"{MaintenanceOptions.Section}:LevelReduction: must be 0..15, got {o.LevelReduction}");
        }
        if (o.MaxDuration <= TimeSpan.Zero || o.MaxDuration > TimeSpan.FromDays(366))
        {
            errors.Add($"{MaintenanceOptions.Section}:MaxDuration: must be positive and at most 366 days, got {o.MaxDuration}");
        }
        if (o.MaxLeadTime < TimeSpan.Zero)
        {
            errors.Add($"{MaintenanceOptions.Section}:MaxLeadTime: must not be negative, got {o.MaxLeadTime}");
        }
        if (o.MaxBackdate < TimeSpan.Zero || o.MaxBackdate > TimeSpan.FromDays(1))
        {
            errors.Add($"{MaintenanceOptions.Section}:MaxBackdate: must be 0..1 day, got {o.MaxBackdate}");
        }
        if (o.SummaryDelay < TimeSpan.Zero || o.SummaryDelay > TimeSpan.FromHours(1))
        {
            errors.Add($"{MaintenanceOptions.Section}:SummaryDelay: must be 0..1 hour, got {o.SummaryDelay}");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

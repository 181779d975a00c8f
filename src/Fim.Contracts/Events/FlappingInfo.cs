namespace Fim.Contracts;

/// <summary>
/// Set on the events of a file that changes more often than its policy's flapping threshold: the event that crosses
/// it (state "started"), then one summary per window while it keeps changing (state "ongoing"). Every change is still
/// in the baseline; the summary counts the changes it stands for. Alerts of such events carry the tag "flapping".
/// </summary>
public sealed class FlappingInfo
{
    public const string Started = "started";
    public const string Ongoing = "ongoing";

    /// <summary>started or ongoing.</summary>
    public string State { get; set; } = "";

    /// <summary>Changes counted: within the window for "started", since the last report for "ongoing".</summary>
    public int Changes { get; set; }

    /// <summary>The policy's window in seconds.</summary>
    public long WindowSeconds { get; set; }

    /// <summary>When the first change this event stands for was seen.</summary>
    public DateTimeOffset Since { get; set; }
}

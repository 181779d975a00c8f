using Fim.Contracts;

namespace Fim.Agent.Output;

/// <summary>Where a standalone agent reports: JSON lines for machines, readable lines for people.</summary>
public interface IAlertOutput
{
    void Write(FileEvent e, Alert? alert);

    /// <summary>A notice that is not a change (baseline recorded, rescan, warnings) for people; JSON output keeps stdout clean.</summary>
    void Notice(string message);
}

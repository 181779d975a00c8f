namespace Fim.Core.Policy;

/// <summary>Who-data: naming the process and user behind each realtime change (fanotify and the process table).</summary>
public sealed class WhoDataSpec
{
    /// <summary>Attach the writer to realtime events where the agent's privileges allow it (default true).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>Include the writer's command line (truncated to 1024 characters); false leaves it out, e.g. where arguments may carry secrets.</summary>
    public bool CommandLine { get; set; } = true;
}

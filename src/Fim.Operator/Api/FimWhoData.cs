namespace Fim.Operator.Api;

/// <summary>Mirrors Fim.Core.Policy.WhoDataSpec.</summary>
public sealed class FimWhoData
{
    [Description("Name the process and user behind each realtime change where the agent's privileges allow it (default true).")]
    public bool? Enabled { get; set; }

    [Description("Include the writer's command line, truncated to 1024 characters (default true); false where arguments may carry secrets.")]
    public bool? CommandLine { get; set; }
}

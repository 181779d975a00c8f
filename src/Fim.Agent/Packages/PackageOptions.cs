namespace Fim.Agent.Packages;

/// <summary>Package-manager awareness (agent.yaml `packages:`); docs/agent-connected.md describes each key.</summary>
public sealed class PackageOptions
{
    /// <summary>Look changed paths up in the host's dpkg and rpm databases.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A change within this long after the package manager's transaction on the file's package counts as that transaction's.</summary>
    public string UpdateWindow { get; set; } = "15m";

    /// <summary>How long to wait for a running package manager to finish before judging a file that does not match its database yet.</summary>
    public string SettleTimeout { get; set; } = "30s";
}

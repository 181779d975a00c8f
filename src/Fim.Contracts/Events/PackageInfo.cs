using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// The installed package a changed path belongs to, as the agent found it in the host's package database
/// (<see cref="FileEvent.Package"/>). Absent for files no package ships.
/// </summary>
public sealed class PackageInfo
{
    /// <summary>The package managers an agent reads.</summary>
    public const string Dpkg = "dpkg";
    public const string Rpm = "rpm";

    /// <summary>dpkg or rpm.</summary>
    public string Manager { get; set; } = "";
    /// <summary>The package name (dpkg: with ":arch" for a multi-arch instance, as dpkg names it).</summary>
    public string Name { get; set; } = "";
    /// <summary>The version before the package manager's last transaction on this package, when that ran recently; else the installed one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? VersionBefore { get; set; }
    /// <summary>The installed version (after that transaction).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? VersionAfter { get; set; }
    /// <summary>
    /// The file's content is what the installed version ships (its digest in the database matches, or, for a path the
    /// database keeps no digest of, a recent transaction of the package explains the change). False: the content
    /// matches no installed version, so something other than the package manager changed it.
    /// </summary>
    public bool Verified { get; set; }
    /// <summary>When the package manager last installed, upgraded or removed this package, if within the agent's window (a transaction that just ran).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? UpdatedAt { get; set; }
}

namespace Fim.Agent.Packages;

/// <summary>
/// What the package database says about one path: the package that ships it, its installed version, and the digest
/// it ships the file with (null for directories and symlinks, which the database keeps no digest of).
/// </summary>
/// <param name="Digest">Lower-case hex of <paramref name="Algorithm"/> over the content, as the database records it.</param>
/// <param name="Conffile">A configuration file: the administrator may edit it, so a mismatch is not tampering.</param>
public sealed record PackageOwner(string Manager, string Package, string? Version, string? Digest, DigestAlgorithm Algorithm, bool Conffile = false);

public enum DigestAlgorithm
{
    None,
    Md5,
    Sha256,
}

/// <summary>One recorded transaction of a package: what the package manager changed, from which version to which.</summary>
public sealed record PackageTransaction(string Package, string? VersionBefore, string? VersionAfter, DateTimeOffset At);

/// <summary>A host's package database, read where the host mounts it.</summary>
public interface IPackageDatabase
{
    string Manager { get; }

    /// <summary>Whether this database exists on the host at all.</summary>
    bool Present { get; }

    /// <summary>
    /// The paths the index keeps (<see cref="PackageScope.Everything"/> until set); a path outside it is not found.
    /// Setting a different scope makes the next <see cref="Refresh"/> read the database again.
    /// </summary>
    PackageScope Scope { get; set; }

    /// <summary>Re-reads the database if it or the scope changed since the last read (cheap when neither did); true when it was re-read.</summary>
    bool Refresh();

    /// <summary>The package owning <paramref name="hostPath"/> (a path as the host knows it), or null.</summary>
    PackageOwner? Find(string hostPath);

    /// <summary>Every package that lists <paramref name="hostPath"/>, the one <see cref="Find"/> returns first.</summary>
    IEnumerable<PackageOwner> FindAll(string hostPath);

    /// <summary>A package that owned <paramref name="hostPath"/> before a refresh and no longer does (an upgrade removed the file).</summary>
    PackageOwner? FindDeparted(string hostPath);

    /// <summary>The package manager's most recent transaction on <paramref name="package"/> at or after <paramref name="since"/>.</summary>
    PackageTransaction? LastTransaction(string package, DateTimeOffset since);

    /// <summary>Whether the package manager is running a transaction right now (holds its lock).</summary>
    bool Busy { get; }
}

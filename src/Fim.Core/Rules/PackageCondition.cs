using Fim.Contracts;

namespace Fim.Core.Rules;

/// <summary>What a rule asks of the event's package (<see cref="FileEvent.Package"/>), filled in by the agent from the host's package database.</summary>
public enum PackageCondition
{
    /// <summary>No condition.</summary>
    Any,
    /// <summary>A packaged path whose content the package database vouches for, changed by a transaction of its package that just ran.</summary>
    Update,
    /// <summary>A packaged path whose content matches no installed package version: changed outside the package manager.</summary>
    Unverified,
    /// <summary>A path no installed package ships.</summary>
    Unpackaged,
}

public static class PackageConditions
{
    public const string UpdateTag = "package-update";
    public const string UnverifiedTag = "package-modified";

    public static bool Holds(this PackageCondition condition, FileEvent e) => condition switch
    {
        PackageCondition.Update => e.Package is { Verified: true, UpdatedAt: not null },
        PackageCondition.Unverified => e.Package is { Verified: false },
        PackageCondition.Unpackaged => e.Package is null,
        _ => true,
    };

    public static bool TryParse(string text, out PackageCondition condition)
    {
        condition = text.Trim().ToLowerInvariant() switch
        {
            "update" => PackageCondition.Update,
            "unverified" => PackageCondition.Unverified,
            "unpackaged" => PackageCondition.Unpackaged,
            "any" => PackageCondition.Any,
            _ => (PackageCondition)(-1),
        };
        return condition >= 0;
    }
}

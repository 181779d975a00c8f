using Fim.Contracts;

namespace Fim.Manager.Security;

/// <summary>
/// One role a caller holds, possibly limited to agents whose labels match <see cref="Agents"/> and to alerts and events
/// of policies in <see cref="Namespaces"/> (a policy is named namespace/name). No limit means everything.
/// </summary>
public sealed record Grant(Role Role, LabelSelector? Agents = null, IReadOnlyList<string>? Namespaces = null)
{
    public bool IsScoped => Agents is not null || Namespaces is { Count: > 0 };

    public bool AllowsLabels(IReadOnlyDictionary<string, string> labels) => Agents is null || Agents.Matches(labels);

    /// <summary>Whether a record of <paramref name="policy"/> (namespace/name, or null for none) is inside the namespace limit.</summary>
    public bool AllowsPolicy(string? policy)
    {
        if (Namespaces is not { Count: > 0 })
        {
            return true;
        }
        var slash = policy?.IndexOf('/') ?? -1;
        return slash > 0 && Namespaces.Contains(policy![..slash], StringComparer.Ordinal);
    }
}

using Fim.Manager.Agents;

namespace Fim.Manager.Security;

/// <summary>
/// What one authenticated caller may see and do: the union of its grants. A record is visible when one grant of at
/// least the needed role allows both the agent's labels and the record's policy namespace.
/// </summary>
public sealed class CallerAccess(string subject, string scheme, IReadOnlyList<Grant> grants)
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    public static CallerAccess Anonymous { get; } = new("anonymous", "none", []);

    /// <summary>Who the caller is: the token's sub, or token:&lt;id&gt; for API tokens.</summary>
    public string Subject { get; } = subject;
    public string Scheme { get; } = scheme;
    public IReadOnlyList<Grant> Grants { get; } = grants;

    public bool Has(Role role) => Grants.Any(g => g.Role >= role);

    /// <summary>Holds <paramref name="role"/> without an agent or namespace limit.</summary>
    public bool HasUnscoped(Role role) => Grants.Any(g => g.Role >= role && !g.IsScoped);

    /// <summary>
    /// Whether the agent is visible at <paramref name="role"/>: a grant allows its labels and, when limited to namespaces,
    /// the agent applies a policy of one of them.
    /// </summary>
    public bool SeesAgent(AgentRecord agent, Role role = Role.Viewer)
    {
        var policies = agent.Heartbeat?.AppliedPolicies.Keys ?? (IEnumerable<string>)[];
        return Grants.Any(g => g.Role >= role && g.AllowsLabels(agent.Labels)
            && (g.Namespaces is not { Count: > 0 } || policies.Any(g.AllowsPolicy)));
    }

    /// <summary>Whether an alert or event of an agent with <paramref name="labels"/> under <paramref name="policy"/> is visible.</summary>
    public bool SeesRecord(IReadOnlyDictionary<string, string>? labels, string? policy, Role role = Role.Viewer) =>
        Grants.Any(g => g.Role >= role && g.AllowsLabels(labels ?? NoLabels) && g.AllowsPolicy(policy));
}

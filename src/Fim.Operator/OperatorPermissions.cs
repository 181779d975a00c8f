namespace Fim.Operator;

/// <summary>One RBAC rule: API group ("" = core), resource (with "/status" for the subresource), verbs.</summary>
public sealed record PermissionRule(string Group, string Resource, IReadOnlyList<string> Verbs);

/// <summary>
/// Exactly the RBAC the operator needs (docs/operator.md; the Helm chart grants these and no more). A test runs the
/// operator against the API double and checks every request it made is covered here, and every rule is used.
/// </summary>
public static class OperatorPermissions
{
    public static readonly IReadOnlyList<PermissionRule> Rules =
    [
        new("fim.io", "fimpolicies", ["get", "list", "watch", "patch"]),
        new("fim.io", "fimpolicies/status", ["patch"]),
        new("fim.io", "fimmanagerpools", ["get", "list", "watch"]),
        new("fim.io", "fimmanagerpools/status", ["patch"]),
        new("apps", "deployments", ["list", "watch", "patch"]),
        new("", "services", ["list", "watch", "patch"]),
        new("", "serviceaccounts", ["list", "watch", "patch"]),
        new("autoscaling", "horizontalpodautoscalers", ["list", "watch", "patch", "delete"]),
        new("keda.sh", "scaledobjects", ["list", "watch", "patch", "delete"]),
        new("policy", "poddisruptionbudgets", ["list", "watch", "patch"]),
        new("", "persistentvolumeclaims", ["list", "watch", "patch"]),
        new("", "secrets", ["list", "watch"]),
        new("", "configmaps", ["list", "watch"]),
        new("", "nodes", ["list", "watch"]),
        new("", "events", ["create"]),
        // Per-node status (issue 18): written whole by server-side apply, deleted when the node or policy goes; Nodes own them.
        new("fim.io", "fimnodestatuses", ["list", "watch", "patch", "delete"]),
        new("coordination.k8s.io", "leases", ["get", "create", "update"]),
    ];

    public static bool Allows(string verb, string group, string resource) =>
        Rules.Concat(OperatorChaosPermissions.Rules).Any(r => r.Group == group && r.Resource == resource && r.Verbs.Contains(verb));

    /// <summary>The rules as a ClusterRole's YAML "rules:" list.</summary>
    public static string ToYaml() => string.Concat(Rules.Select(r =>
        $"- apiGroups: [\"{r.Group}\"]\n  resources: [\"{r.Resource}\"]\n  verbs: [{string.Join(", ", r.Verbs.Select(v => $"\"{v}\""))}]\n"));
}

namespace Fim.Operator;

/// <summary>
/// What chaos mode (a pool's spec.chaos) adds to <see cref="OperatorPermissions.Rules"/>: listing and deleting pods.
/// Deleting pods is a lot to grant for a testing aid, so the chart grants it only with operator.rbac.chaos=true;
/// without it a pool asking for chaos gets a ChaosRefused event naming the missing permission.
/// </summary>
public static class OperatorChaosPermissions
{
    public static readonly IReadOnlyList<PermissionRule> Rules =
    [
        new("", "pods", ["list", "delete"]),
    ];
}

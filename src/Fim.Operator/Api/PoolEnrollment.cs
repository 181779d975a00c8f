namespace Fim.Operator.Api;

[Description("Agent enrollment (NATS in operator/JWT mode): the managers issue each agent its own NATS identity and register the agents' join token, so new nodes join without a configuration change.")]
public sealed class PoolEnrollment
{
    public const string OperatorSeedKey = "operator.nk";
    public const string AccountSeedKey = "account.nk";
    public const string SystemCredsKey = "system.creds";
    public const string ManagerCredsKey = "manager.creds";
    public const string JoinTokenKey = "token";

    [RequiredField, Description("Secret made from `fim-manager enrollment-init`: operator.nk, account.nk, system.creds, manager.creds (the managers' own NATS login) and token (the join token the agents' DaemonSet reads from its Secret).")]
    public SecretReference SecretRef { get; set; } = new();

    [Range(1), DefaultValue(10000), Description("Uses of the join token in the Secret, from the first manager start that registers it.")]
    public int JoinTokenUses { get; set; } = 10000;

    [Range(1), DefaultValue(365), Description("Days the join token in the Secret stays valid, from its registration.")]
    public int JoinTokenDays { get; set; } = 365;

    [DefaultValue(false), Description("Refuse unsigned events even from agents that never enrolled (a fleet that uses enrollment only).")]
    public bool RequireSignatures { get; set; }
}

using System.Text.Json.Nodes;
using NATS.NKeys;

namespace Fim.Nats.Identity;

/// <summary>
/// A new decentralized-auth set-up for nats-server: operator, system account and FIM's account, each with a fresh NKey.
/// Gives the server configuration block (operator JWT, resolver with both accounts preloaded) and creds files for
/// users. `fim-agent nats-jwt-init` writes it to files; tests use it to start servers in operator mode.
/// </summary>
public sealed class NatsOperatorSetup
{
    public NatsOperatorSetup()
        : this(KeyPair.CreatePair(PrefixByte.Operator), KeyPair.CreatePair(PrefixByte.Account), KeyPair.CreatePair(PrefixByte.Account))
    {
    }

    public NatsOperatorSetup(KeyPair operatorKey, KeyPair accountKey, KeyPair systemKey)
    {
        Operator = operatorKey;
        Account = accountKey;
        System = systemKey;
        Issuer = new NatsAccountIssuer(operatorKey, accountKey);
    }

    public KeyPair Operator { get; }
    public KeyPair Account { get; }
    public KeyPair System { get; }
    public NatsAccountIssuer Issuer { get; }

    public string AccountPublicKey => Account.GetPublicKey();

    /// <summary>
    /// The nats-server configuration block. <paramref name="resolverDir"/> null: the memory resolver (accounts as
    /// preloaded; pushed updates last until the server restarts). A directory: the full resolver, which keeps pushed
    /// account JWTs (and so revocations) across restarts.
    /// </summary>
    public string ServerConfig(string? resolverDir = null)
    {
        var now = DateTimeOffset.UtcNow;
        // JetStream needs a system account in operator mode.
        var operatorJwt = NatsJwt.Encode(Operator, Operator.GetPublicKey(), "fim-operator",
            new JsonObject { ["system_account"] = System.GetPublicKey(), ["type"] = "operator", ["version"] = 2 }, now);
        // Limits left out mean zero connections: the system user that pushes account JWTs needs to log in.
        var systemJwt = NatsJwt.Encode(Operator, System.GetPublicKey(), "SYS", new JsonObject
        {
            ["limits"] = new JsonObject { ["subs"] = -1, ["data"] = -1, ["payload"] = -1, ["imports"] = -1, ["exports"] = -1, ["wildcards"] = true, ["conn"] = -1, ["leaf"] = -1 },
            ["type"] = "account",
            ["version"] = 2,
        }, now);
        var accountJwt = Issuer.AccountJwt(new Dictionary<string, DateTimeOffset>(), now);
        var resolver = resolverDir is null
            ? "resolver: MEMORY"
            : $"resolver: {{ type: full, dir: \"{resolverDir}\", allow_delete: false, interval: \"2m\" }}";
        return $$"""
            operator: {{operatorJwt}}
            system_account: {{System.GetPublicKey()}}
            {{resolver}}
            resolver_preload: { {{AccountPublicKey}}: {{accountJwt}}, {{System.GetPublicKey()}}: {{systemJwt}} }
            """;
    }

    /// <summary>Creds text of a new user of FIM's account without subject limits (managers, operator, admins).</summary>
    public string UnrestrictedUserCreds(string name)
    {
        var user = KeyPair.CreatePair(PrefixByte.User);
        return NatsJwt.CredsFile(Issuer.UnrestrictedUserJwt(name, user.GetPublicKey(), DateTimeOffset.UtcNow), user.GetSeed());
    }

    /// <summary>Creds text of a new system-account user: what pushes account JWTs (revocations) to the servers.</summary>
    public string SystemUserCreds(string name = "fim-account-pusher")
    {
        var user = KeyPair.CreatePair(PrefixByte.User);
        var jwt = NatsJwt.Encode(System, user.GetPublicKey(), name, new JsonObject
        {
            ["pub"] = new JsonObject(),
            ["sub"] = new JsonObject(),
            ["subs"] = -1,
            ["data"] = -1,
            ["payload"] = -1,
            ["type"] = "user",
            ["version"] = 2,
        }, DateTimeOffset.UtcNow);
        return NatsJwt.CredsFile(jwt, user.GetSeed());
    }
}

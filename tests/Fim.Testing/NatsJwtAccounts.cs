using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NATS.NKeys;

namespace Fim.Testing;

/// <summary>
/// A nats-server in decentralized (operator/JWT) mode for creds-file logins: an operator, one account with JetStream
/// allowed, and users whose creds files this writes. The JWTs are signed with the issuers' NKeys (Ed25519) exactly as
/// nsc issues them, so the server verifies the whole chain.
/// </summary>
public sealed class NatsJwtAccounts
{
    private readonly KeyPair _operator = KeyPair.CreatePair(PrefixByte.Operator);
    private readonly KeyPair _account = KeyPair.CreatePair(PrefixByte.Account);
    private readonly KeyPair _system = KeyPair.CreatePair(PrefixByte.Account);

    public string AccountPublicKey => _account.GetPublicKey();

    /// <summary>The server configuration block: the operator JWT and the account preloaded into a memory resolver.</summary>
    public string ServerConfig()
    {
        // JetStream needs a system account in operator mode.
        var operatorJwt = Sign(_operator, _operator.GetPublicKey(), "fim-test-operator",
            new JsonObject { ["system_account"] = _system.GetPublicKey(), ["type"] = "operator", ["version"] = 2 });
        var systemJwt = Sign(_operator, _system.GetPublicKey(), "SYS", new JsonObject { ["type"] = "account", ["version"] = 2 });
        var accountJwt = Sign(_operator, _account.GetPublicKey(), "fim", new JsonObject
        {
            ["limits"] = new JsonObject
            {
                ["subs"] = -1,
                ["data"] = -1,
                ["payload"] = -1,
                ["imports"] = -1,
                ["exports"] = -1,
                ["wildcards"] = true,
                ["conn"] = -1,
                ["leaf"] = -1,
                ["mem_storage"] = -1,
                ["disk_storage"] = -1,
                ["streams"] = -1,
                ["consumer"] = -1,
            },
            ["default_permissions"] = new JsonObject { ["pub"] = new JsonObject(), ["sub"] = new JsonObject() },
            ["type"] = "account",
            ["version"] = 2,
        });
        return $$"""
            operator: {{operatorJwt}}
            system_account: {{_system.GetPublicKey()}}
            resolver: MEMORY
            resolver_preload: { {{_account.GetPublicKey()}}: {{accountJwt}}, {{_system.GetPublicKey()}}: {{systemJwt}} }
            """;
    }

    /// <summary>Writes a creds file (user JWT signed by the account, plus the user's seed) for a new user.</summary>
    public string WriteUserCreds(string path, string name)
    {
        var user = KeyPair.CreatePair(PrefixByte.User);
        var jwt = Sign(_account, user.GetPublicKey(), name, new JsonObject
        {
            ["pub"] = new JsonObject(),
            ["sub"] = new JsonObject(),
            ["subs"] = -1,
            ["data"] = -1,
            ["payload"] = -1,
            ["type"] = "user",
            ["version"] = 2,
        });
        File.WriteAllText(path, $"""
            -----BEGIN NATS USER JWT-----
            {jwt}
            ------END NATS USER JWT------

            -----BEGIN USER NKEY SEED-----
            {user.GetSeed()}
            ------END USER NKEY SEED------

            """);
        return path;
    }

    private static string Sign(KeyPair issuer, string subject, string name, JsonObject nats)
    {
        var claims = new JsonObject
        {
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["iss"] = issuer.GetPublicKey(),
            ["name"] = name,
            ["sub"] = subject,
            ["nats"] = nats,
        };
        // nsc's jti: the base32 SHA-256 of the claims without it; the server only needs it unique.
        claims["jti"] = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(claims.ToJsonString())));
        var header = Base64Url("""{"typ":"JWT","alg":"ed25519-nkey"}"""u8);
        var payload = Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString(new JsonSerializerOptions())));
        var signingInput = Encoding.ASCII.GetBytes($"{header}.{payload}");
        var signature = new byte[64];
        issuer.Sign(signingInput, signature);
        return $"{header}.{payload}.{Base64Url(signature)}";
    }

    private static string Base64Url(ReadOnlySpan<byte> data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

using System.Text.Json.Nodes;
using NATS.NKeys;

namespace Fim.Nats.Identity;

/// <summary>
/// Issues the JWTs of FIM's NATS account: the account itself (signed by the operator key, with the list of revoked
/// users; pushed to the servers on every revocation) and its users (signed by the account key): agents with
/// <see cref="AgentPermissions"/>, join tokens' bootstrap users, managers.
/// </summary>
public sealed class NatsAccountIssuer(KeyPair operatorKey, KeyPair accountKey, string accountName = NatsAccountIssuer.DefaultAccountName)
{
    public const string DefaultAccountName = "fim";

    public string AccountPublicKey { get; } = accountKey.GetPublicKey();

    public string OperatorPublicKey { get; } = operatorKey.GetPublicKey();

    /// <summary>The account JWT: JetStream and everything else unlimited, and <paramref name="revocations"/> (user key to time; JWTs issued up to then are refused).</summary>
    public string AccountJwt(IReadOnlyDictionary<string, DateTimeOffset> revocations, DateTimeOffset issuedAt)
    {
        var nats = new JsonObject
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
        };
        if (revocations.Count > 0)
        {
            var revoked = new JsonObject();
            foreach (var (key, at) in revocations.OrderBy(r => r.Key, StringComparer.Ordinal))
            {
                revoked[key] = at.ToUnixTimeSeconds();
            }
            nats["revocations"] = revoked;
        }
        return NatsJwt.Encode(operatorKey, AccountPublicKey, accountName, nats, issuedAt);
    }

    /// <summary>An agent's user: exactly <see cref="AgentPermissions"/> for its id.</summary>
    public string AgentUserJwt(string agentId, string userPublicKey, DateTimeOffset issuedAt) =>
        UserJwt(userPublicKey, agentId, AgentPermissions.Publish(agentId), AgentPermissions.Subscribe(agentId), issuedAt,
            (AgentPermissions.MaxResponses, AgentPermissions.ResponseWindow));

    /// <summary>A join token's bootstrap user: may only send enrollment requests (small payloads) and hear the answers.</summary>
    public string BootstrapUserJwt(string tokenId, string userPublicKey, DateTimeOffset issuedAt) =>
        UserJwt(userPublicKey, $"join-token-{tokenId}", AgentPermissions.BootstrapPublish, AgentPermissions.BootstrapSubscribe, issuedAt, null, payloadLimit: 4096, subsLimit: 4);

    /// <summary>A user without limits on subjects (managers, operator, administrators).</summary>
    public string UnrestrictedUserJwt(string name, string userPublicKey, DateTimeOffset issuedAt) =>
        UserJwt(userPublicKey, name, [], [], issuedAt, null);

    private string UserJwt(string userPublicKey, string name, IReadOnlyList<string> publish, IReadOnlyList<string> subscribe, DateTimeOffset issuedAt,
        (int Max, TimeSpan Ttl)? responses, long payloadLimit = -1, long subsLimit = -1)
    {
        if (userPublicKey.Length != 56 || userPublicKey[0] != 'U' || !userPublicKey.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException("not an NKey user public key (56 characters starting with U)", nameof(userPublicKey));
        }
        var nats = new JsonObject
        {
            ["pub"] = publish.Count == 0 ? new JsonObject() : new JsonObject { ["allow"] = new JsonArray([.. publish.Select(s => (JsonNode)s)]) },
            ["sub"] = subscribe.Count == 0 ? new JsonObject() : new JsonObject { ["allow"] = new JsonArray([.. subscribe.Select(s => (JsonNode)s)]) },
            ["subs"] = subsLimit,
            ["data"] = -1,
            ["payload"] = payloadLimit,
            ["type"] = "user",
            ["version"] = 2,
        };
        if (responses is { } r)
        {
            // time.Duration in nanoseconds, as the Go server reads it.
            nats["resp"] = new JsonObject { ["max"] = r.Max, ["ttl"] = (long)(r.Ttl.TotalMilliseconds * 1_000_000) };
        }
        return NatsJwt.Encode(accountKey, userPublicKey, name, nats, issuedAt);
    }
}

using System.Text;
using System.Text.Json;

namespace Fim.Contracts;

/// <summary>
/// What `fim-agent enroll` sends on <see cref="Subjects.Enroll"/>: the agent's id, the public half of the NKey it just
/// generated (the seed stays on the host) and the join token's id and secret.
/// </summary>
public sealed class EnrollRequest
{
    public int SchemaVersion { get; set; } = 1;
    public string AgentId { get; set; } = "";
    /// <summary>NKey user public key, 56 characters starting with U.</summary>
    public string PublicKey { get; set; } = "";
    public string TokenId { get; set; } = "";
    public string TokenSecret { get; set; } = "";
}

/// <summary>The manager's answer: the agent's user JWT, or why not (<see cref="Error"/> is one of <see cref="EnrollErrors"/>).</summary>
public sealed class EnrollReply
{
    public int SchemaVersion { get; set; } = 1;
    public string? UserJwt { get; set; }
    public string? Error { get; set; }
    public string? Message { get; set; }
}

public static class EnrollErrors
{
    public const string Invalid = "invalid-request";
    public const string UnknownToken = "unknown-token";
    public const string Expired = "token-expired";
    public const string UsedUp = "token-used-up";
    public const string Revoked = "token-revoked";
    public const string AgentTaken = "agent-id-taken";
    public const string Unavailable = "unavailable";
}

/// <summary>An enrolled agent (KV fim-identities, key = agent id): the public key its events are verified with.</summary>
public sealed class AgentIdentityRecord
{
    public int SchemaVersion { get; set; } = 1;
    public string AgentId { get; set; } = "";
    public string PublicKey { get; set; } = "";
    public DateTimeOffset EnrolledAt { get; set; }
    public string TokenId { get; set; } = "";
    /// <summary>Set when revoked: the server refuses the key from then on (account JWT revocation).</summary>
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>A join token as stored (KV fim-join-tokens, key = token id): the secret only as its SHA-256.</summary>
public sealed class JoinTokenRecord
{
    public int SchemaVersion { get; set; } = 1;
    public string TokenId { get; set; } = "";
    public string SecretSha256 { get; set; } = "";
    /// <summary>The bootstrap NATS user carried in the token (may only request enrollment); revoked with the token.</summary>
    public string BootstrapPublicKey { get; set; } = "";
    public int MaxUses { get; set; }
    public int Uses { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public string Description { get; set; } = "";
}

/// <summary>
/// The join token as people handle it: "fimjt1." and base64url JSON holding the token id, its secret and the bootstrap
/// NATS credentials (a user JWT and seed that may only publish enrollment requests). One string to put in a Secret.
/// </summary>
public sealed record JoinToken(string TokenId, string Secret, string BootstrapJwt, string BootstrapSeed)
{
    public const string Prefix = "fimjt1.";

    public string Encode()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new Wire { I = TokenId, S = Secret, J = BootstrapJwt, K = BootstrapSeed }, ContractJson.Default.JoinTokenWire);
        return Prefix + Convert.ToBase64String(json).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The token, or a <see cref="FormatException"/> that names what is wrong and never repeats the text.</summary>
    public static JoinToken Parse(string text)
    {
        text = text.Trim();
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new FormatException($"not a join token (it must start with '{Prefix}')");
        }
        Wire? wire;
        try
        {
            var b64 = text[Prefix.Length..].Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
            wire = JsonSerializer.Deserialize(Convert.FromBase64String(b64), ContractJson.Default.JoinTokenWire);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw new FormatException("the join token is damaged (not base64url JSON after the prefix)");
        }
        if (wire is not { I.Length: > 0, S.Length: > 0, J.Length: > 0, K.Length: > 0 })
        {
            throw new FormatException("the join token is incomplete (id, secret or bootstrap credentials missing)");
        }
        return new JoinToken(wire.I, wire.S, wire.J, wire.K);
    }

    /// <summary>Never the secret parts.</summary>
    public override string ToString() => $"join token {TokenId}";

    public sealed class Wire
    {
        public string I { get; set; } = "";
        public string S { get; set; } = "";
        public string J { get; set; } = "";
        public string K { get; set; } = "";
    }

    /// <summary>The form stored by the manager: hex SHA-256 of the secret.</summary>
    public static string HashSecret(string secret) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace Fim.Manager.Security;

/// <summary>
/// An API token as KV fim-api-tokens keeps it: everything but the secret, which is kept as its SHA-256 (the token is
/// 256 random bits, so a plain hash is enough: there is nothing to guess).
/// </summary>
public sealed record ApiTokenRecord
{
    public required string TokenId { get; init; }
    public required string Name { get; init; }
    public required string Role { get; init; }
    public Dictionary<string, string>? MatchLabels { get; init; }
    public List<string>? Namespaces { get; init; }
    /// <summary>Lower-case hex SHA-256 of the whole token text.</summary>
    public required string Sha256 { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string CreatedBy { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public DateTimeOffset? LastUsedAt { get; init; }

    public bool Matches(string token)
    {
        var expected = Convert.FromHexString(Sha256);
        return CryptographicOperations.FixedTimeEquals(expected, SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}

/// <summary>Token text: fimt_&lt;id&gt;_&lt;secret&gt;, id 16 hex characters (the KV key), secret 256 random bits in base64url.</summary>
public static class ApiTokenFormat
{
    public const string Prefix = "fimt_";

    public static (string Id, string Token) New()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (id, $"{Prefix}{id}_{secret}");
    }

    public static bool LooksLikeToken(string text) => text.StartsWith(Prefix, StringComparison.Ordinal);

    public static bool TryParse(string token, out string id)
    {
        id = "";
        if (!LooksLikeToken(token) || token.Length != Prefix.Length + 16 + 1 + 43 || token[Prefix.Length + 16] != '_')
        {
            return false;
        }
        id = token.Substring(Prefix.Length, 16);
        return IsId(id);
    }

    public static bool IsId(string id) => id.Length == 16 && id.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
}

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ApiTokenRecord))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class SecurityJson : JsonSerializerContext;

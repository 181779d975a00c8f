using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NATS.NKeys;

namespace Fim.Nats.Identity;

/// <summary>
/// NATS JWTs (operator, account, user claims, version 2) as nsc writes them: header {"typ":"JWT","alg":"ed25519-nkey"},
/// claims signed by the issuer's NKey. No maintained .NET library for NATS JWTs is available, so the small encoding
/// lives here, once: managers issue with it, agents check what they got, tests set up servers with it.
/// </summary>
public static class NatsJwt
{
    private const string Header = """{"typ":"JWT","alg":"ed25519-nkey"}""";

    /// <summary>Signed claims; <paramref name="nats"/> is the "nats" member (type, version and the rest).</summary>
    public static string Encode(KeyPair issuer, string subject, string name, JsonObject nats, DateTimeOffset issuedAt, DateTimeOffset? expires = null)
    {
        var claims = new JsonObject
        {
            ["iat"] = issuedAt.ToUnixTimeSeconds(),
            ["iss"] = issuer.GetPublicKey(),
            ["name"] = name,
            ["sub"] = subject,
        };
        if (expires is { } exp)
        {
            claims["exp"] = exp.ToUnixTimeSeconds();
        }
        claims["nats"] = nats;
        // nsc's jti is a hash of the claims without it; the server only needs it unique.
        claims["jti"] = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(claims.ToJsonString())));
        var signingInput = $"{Base64Url(Encoding.UTF8.GetBytes(Header))}.{Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()))}";
        var signature = new byte[64];
        issuer.Sign(Encoding.ASCII.GetBytes(signingInput), signature);
        return $"{signingInput}.{Base64Url(signature)}";
    }

    /// <summary>The claims of a JWT whose signature verifies against its own "iss"; <see cref="FormatException"/> otherwise.</summary>
    public static JsonObject DecodeVerified(string jwt)
    {
        var parts = jwt.Trim().Split('.');
        if (parts.Length != 3)
        {
            throw new FormatException("not a JWT (three dot-separated parts)");
        }
        JsonObject claims;
        try
        {
            claims = JsonNode.Parse(FromBase64Url(parts[1])) as JsonObject ?? throw new FormatException("JWT claims are not a JSON object");
        }
        catch (JsonException e)
        {
            throw new FormatException($"JWT claims are not JSON: {e.Message}", e);
        }
        var issuer = claims["iss"]?.GetValue<string>() ?? throw new FormatException("JWT has no issuer");
        if (!Verify(issuer, Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), FromBase64Url(parts[2])))
        {
            throw new FormatException("JWT signature does not verify against its issuer");
        }
        return claims;
    }

    /// <summary>Ed25519 verification with an NKey public key (U..., A..., O...); false for a malformed key or signature.</summary>
    public static bool Verify(string publicKey, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> signature)
    {
        if (signature.Length != 64)
        {
            return false;
        }
        try
        {
            return KeyPair.FromPublicKey(publicKey).Verify(data, signature);
        }
        catch (Exception e) when (e is NKeysException or FormatException or ArgumentException or IndexOutOfRangeException)
        {
            return false;
        }
    }

    /// <summary>The text of a creds file: the user JWT and its seed, in the blocks nats clients read.</summary>
    public static string CredsFile(string userJwt, string seed) => $"""
        -----BEGIN NATS USER JWT-----
        {userJwt}
        ------END NATS USER JWT------

        ************************* IMPORTANT *************************
        NKEY Seed printed below can be used to sign and prove identity.
        NKEYs are sensitive and should be treated as secrets.

        -----BEGIN USER NKEY SEED-----
        {seed}
        ------END USER NKEY SEED------

        *************************************************************

        """;

    /// <summary>The JWT in a creds file, or null.</summary>
    public static string? ReadCredsJwt(string credsText)
    {
        var lines = credsText.Split('\n').Select(l => l.Trim()).ToList();
        var start = lines.FindIndex(l => l.Contains("BEGIN NATS USER JWT", StringComparison.Ordinal));
        return start >= 0 && start + 1 < lines.Count && lines[start + 1].Length > 0 ? lines[start + 1] : null;
    }

    public static string Base64Url(ReadOnlySpan<byte> data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] FromBase64Url(string text)
    {
        var b64 = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '='));
    }
}

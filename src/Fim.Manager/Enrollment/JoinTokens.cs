using System.Security.Cryptography;
using Fim.Contracts;
using NATS.Client.KeyValueStore;
using NATS.NKeys;

namespace Fim.Manager.Enrollment;

/// <summary>Why a join token was not accepted, in words that say which rule it broke.</summary>
public sealed record TokenRefusal(string Code, string Message);

/// <summary>
/// Join tokens in KV fim-join-tokens: created with a random secret (returned once, stored as its SHA-256), a number of
/// uses and an expiry; each enrollment takes one use with a compare-and-set, so managers never hand out more uses
/// than there are.
/// </summary>
public sealed class JoinTokens(EnrollmentBuckets buckets, EnrollmentKeys keys, TimeProvider time)
{
    /// <summary>A new token; its text (with the secret) exists only in the return value.</summary>
    public async Task<(JoinTokenRecord Record, string Token)> CreateAsync(int maxUses, TimeSpan ttl, string description, CancellationToken ct)
    {
        if (maxUses < 1)
        {
            throw new ArgumentException("uses: at least 1");
        }
        if (ttl <= TimeSpan.Zero)
        {
            throw new ArgumentException("ttl: must be positive");
        }
        var now = time.GetUtcNow();
        var token = Mint(keys.Issuer, now);
        var record = RecordOf(token, maxUses, now + ttl, description, now);
        var store = await buckets.JoinTokensAsync(ct);
        await store.CreateAsync(token.TokenId, EnrollmentBuckets.Write(record, ContractJson.Default.JoinTokenRecord), EnrollmentBuckets.Raw, ct);
        return (record, token.Encode());
    }

    /// <summary>A new token (id, secret, and a bootstrap user signed by the account key) that no store knows yet.</summary>
    public static JoinToken Mint(Fim.Nats.Identity.NatsAccountIssuer issuer, DateTimeOffset now)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Fim.Nats.Identity.NatsJwt.Base64Url(RandomNumberGenerator.GetBytes(32));
        var bootstrap = KeyPair.CreatePair(PrefixByte.User);
        return new JoinToken(id, secret, issuer.BootstrapUserJwt(id, bootstrap.GetPublicKey(), now), bootstrap.GetSeed());
    }

    /// <summary>
    /// Stores a token minted elsewhere (`fim-manager enrollment-init`, handed to the DaemonSet in a Secret) unless its id is
    /// there already, whatever its state: a restart never renews or revives it. False when it was there.
    /// </summary>
    public async Task<bool> RegisterAsync(JoinToken token, int maxUses, TimeSpan ttl, string description, CancellationToken ct)
    {
        if (!IsTokenId(token.TokenId))
        {
            throw new ArgumentException($"join token id '{token.TokenId}' is not 1..64 letters and digits");
        }
        var now = time.GetUtcNow();
        var record = RecordOf(token, maxUses, now + ttl, description, now);
        var store = await buckets.JoinTokensAsync(ct);
        try
        {
            await store.CreateAsync(token.TokenId, EnrollmentBuckets.Write(record, ContractJson.Default.JoinTokenRecord), EnrollmentBuckets.Raw, ct);
            return true;
        }
        catch (NatsKVCreateException)
        {
            return false;
        }
    }

    private static JoinTokenRecord RecordOf(JoinToken token, int maxUses, DateTimeOffset expiresAt, string description, DateTimeOffset now) => new()
    {
        TokenId = token.TokenId,
        SecretSha256 = JoinToken.HashSecret(token.Secret),
        BootstrapPublicKey = KeyPair.FromSeed(token.BootstrapSeed).GetPublicKey(),
        MaxUses = maxUses,
        CreatedAt = now,
        ExpiresAt = expiresAt,
        Description = description,
    };

    public async Task<IReadOnlyList<JoinTokenRecord>> ListAsync(CancellationToken ct)
    {
        var store = await buckets.JoinTokensAsync(ct);
        var records = new List<JoinTokenRecord>();
        await foreach (var key in store.GetKeysAsync(cancellationToken: ct))
        {
            if (await GetAsync(store, key, ct) is { } entry)
            {
                records.Add(entry.Record);
            }
        }
        return [.. records.OrderBy(r => r.CreatedAt)];
    }

    /// <summary>Marks the token revoked; null when there is no such token.</summary>
    public async Task<JoinTokenRecord?> RevokeAsync(string tokenId, CancellationToken ct)
    {
        var store = await buckets.JoinTokensAsync(ct);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (await GetAsync(store, tokenId, ct) is not { } entry)
            {
                return null;
            }
            entry.Record.RevokedAt ??= time.GetUtcNow();
            try
            {
                await store.UpdateAsync(tokenId, EnrollmentBuckets.Write(entry.Record, ContractJson.Default.JoinTokenRecord), entry.Revision, EnrollmentBuckets.Raw, ct);
                return entry.Record;
            }
            catch (NatsKVWrongLastRevisionException)
            {
            }
        }
        throw new InvalidOperationException($"join token {tokenId} changed ten times while being revoked");
    }

    /// <summary>Takes one use of the token, or says why it cannot be used (unknown, wrong secret, revoked, expired, used up).</summary>
    public async Task<TokenRefusal?> TryUseAsync(string tokenId, string secret, CancellationToken ct)
    {
        var store = await buckets.JoinTokensAsync(ct);
        for (var attempt = 0; attempt < 50; attempt++)
        {
            if (!IsTokenId(tokenId) || await GetAsync(store, tokenId, ct) is not { } entry)
            {
                return new TokenRefusal(EnrollErrors.UnknownToken, "the join token is unknown to this manager (deleted, or from another installation)");
            }
            var record = entry.Record;
            // Same answer for a wrong secret as for an unknown id: a guesser learns nothing about which ids exist.
            if (!CryptographicOperations.FixedTimeEquals(Convert.FromHexString(record.SecretSha256), Convert.FromHexString(JoinToken.HashSecret(secret))))
            {
                return new TokenRefusal(EnrollErrors.UnknownToken, "the join token is unknown to this manager (deleted, or from another installation)");
            }
            if (record.RevokedAt is { } revoked)
            {
                return new TokenRefusal(EnrollErrors.Revoked, $"join token {tokenId} was revoked at {revoked:u}");
            }
            if (time.GetUtcNow() >= record.ExpiresAt)
            {
                return new TokenRefusal(EnrollErrors.Expired, $"join token {tokenId} expired at {record.ExpiresAt:u}");
            }
            if (record.Uses >= record.MaxUses)
            {
                return new TokenRefusal(EnrollErrors.UsedUp, $"join token {tokenId} is used up ({record.Uses} of {record.MaxUses} uses)");
            }
            record.Uses++;
            try
            {
                await store.UpdateAsync(tokenId, EnrollmentBuckets.Write(record, ContractJson.Default.JoinTokenRecord), entry.Revision, EnrollmentBuckets.Raw, ct);
                return null;
            }
            catch (NatsKVWrongLastRevisionException)
            {
                // Another enrollment took a use meanwhile: read again.
                await Task.Delay(Random.Shared.Next(1, 20), ct);
            }
        }
        return new TokenRefusal(EnrollErrors.Unavailable, $"join token {tokenId} is too busy; try again");
    }

    private static bool IsTokenId(string id) => id.Length is > 0 and <= 64 && id.All(char.IsAsciiLetterOrDigit);

    private static async Task<(JoinTokenRecord Record, ulong Revision)?> GetAsync(INatsKVStore store, string key, CancellationToken ct)
    {
        try
        {
            var entry = await store.GetEntryAsync(key, serializer: EnrollmentBuckets.Raw, cancellationToken: ct);
            return EnrollmentBuckets.Read(entry.Value, ContractJson.Default.JoinTokenRecord) is { } record ? (record, entry.Revision) : null;
        }
        catch (Exception e) when (e is NatsKVKeyNotFoundException or NatsKVKeyDeletedException)
        {
            return null;
        }
    }
}

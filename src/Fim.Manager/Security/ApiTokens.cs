using V1 = Fim.Api.V1;
using Fim.Contracts;
using Fim.Manager.Api;
using Fim.Manager.Options;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Security;

/// <summary>
/// Creating, listing and revoking API tokens. Managing tokens is an admin act over the whole fleet, so it needs an
/// admin grant without an agent or namespace limit (a scoped admin could otherwise mint a wider token).
/// </summary>
public sealed class ApiTokens(ApiTokenStore store, IOptions<AuthOptions> options, TimeProvider time)
{
    private readonly ApiTokenOptions _options = options.Value.Tokens;

    public async Task<V1.CreateApiTokenResponse> CreateAsync(CallerAccess caller, V1.CreateApiTokenRequest request, CancellationToken cancellationToken)
    {
        RequireFleetAdmin(caller);
        var name = request.Name.Trim();
        if (name.Length is 0 or > 128 || name.Any(char.IsControl))
        {
            throw ApiArguments.Invalid("name: is required (1..128 printable characters)");
        }
        if (!Roles.TryParse(request.Role, out var role))
        {
            throw ApiArguments.Invalid($"role: '{request.Role}' is not one of ingest, viewer, analyst, admin");
        }
        var ttl = request.HasTtlSeconds ? TimeSpan.FromSeconds(request.TtlSeconds) : _options.DefaultLifetime;
        if (ttl <= TimeSpan.Zero || ttl > _options.MaxLifetime)
        {
            throw ApiArguments.Invalid($"ttl_seconds: must be 1..{(long)_options.MaxLifetime.TotalSeconds}");
        }
        if (request.MatchLabels.Keys.FirstOrDefault(k => k.Length == 0) is not null)
        {
            throw ApiArguments.Invalid("match_labels: a label key is empty");
        }
        if (request.Namespaces.FirstOrDefault(n => n.Length == 0 || n.Contains('/')) is { } badNamespace)
        {
            throw ApiArguments.Invalid($"namespaces: '{badNamespace}' is not a namespace name");
        }
        var (id, secret) = ApiTokenFormat.New();
        var now = time.GetUtcNow();
        var record = new ApiTokenRecord
        {
            TokenId = id,
            Name = name,
            Role = Roles.Name(role),
            MatchLabels = request.MatchLabels.Count > 0 ? new Dictionary<string, string>(request.MatchLabels) : null,
            Namespaces = request.Namespaces.Count > 0 ? [.. request.Namespaces] : null,
            Sha256 = ApiTokenRecord.Hash(secret),
            CreatedAt = now,
            CreatedBy = caller.Subject,
            ExpiresAt = now + ttl,
        };
        await store.PutAsync(record, cancellationToken);
        return new V1.CreateApiTokenResponse { Token = ToProto(record), Secret = secret };
    }

    public async Task<V1.ListApiTokensResponse> ListAsync(CallerAccess caller, CancellationToken cancellationToken)
    {
        RequireFleetAdmin(caller);
        var response = new V1.ListApiTokensResponse();
        response.Tokens.Add((await store.ListAsync(cancellationToken)).Select(ToProto));
        return response;
    }

    public async Task<V1.ApiToken> RevokeAsync(CallerAccess caller, string tokenId, CancellationToken cancellationToken)
    {
        RequireFleetAdmin(caller);
        if (!ApiTokenFormat.IsId(tokenId))
        {
            throw ApiArguments.Invalid("token_id: must be 16 lower-case hex characters");
        }
        var record = await store.FindAsync(tokenId, cancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"token_id: no API token '{tokenId}' in KV {Subjects.ApiTokensBucket}"));
        if (record.RevokedAt is null)
        {
            record = record with { RevokedAt = time.GetUtcNow() };
            await store.PutAsync(record, cancellationToken);
        }
        return ToProto(record);
    }

    private static void RequireFleetAdmin(CallerAccess caller)
    {
        if (!caller.HasUnscoped(Role.Admin))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "managing API tokens needs an admin role without an agent or namespace limit"));
        }
    }

    private static V1.ApiToken ToProto(ApiTokenRecord t)
    {
        var token = new V1.ApiToken
        {
            TokenId = t.TokenId,
            Name = t.Name,
            Role = t.Role,
            CreatedAt = Timestamp.FromDateTimeOffset(t.CreatedAt),
            CreatedBy = t.CreatedBy,
            ExpiresAt = Timestamp.FromDateTimeOffset(t.ExpiresAt),
            RevokedAt = t.RevokedAt is { } r ? Timestamp.FromDateTimeOffset(r) : null,
            LastUsedAt = t.LastUsedAt is { } u ? Timestamp.FromDateTimeOffset(u) : null,
        };
        foreach (var (key, value) in t.MatchLabels ?? [])
        {
            token.MatchLabels[key] = value;
        }
        token.Namespaces.Add(t.Namespaces ?? []);
        return token;
    }
}

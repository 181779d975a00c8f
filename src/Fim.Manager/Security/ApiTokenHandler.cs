using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Security;

/// <summary>
/// Authenticates "Authorization: Bearer fimt_..." against KV fim-api-tokens: the hash must match, the token must be
/// neither revoked nor expired. Anything else is not this scheme's business (NoResult).
/// </summary>
public sealed class ApiTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggers,
    UrlEncoder encoder,
    ApiTokenStore store,
    AuditLog audit,
    TimeProvider time) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggers, encoder)
{
    public const string SchemeName = "ApiToken";
    public const string AuthenticationType = "fim-api-token";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerToken(Request) is not { } token || !ApiTokenFormat.LooksLikeToken(token))
        {
            return AuthenticateResult.NoResult();
        }
        if (!ApiTokenFormat.TryParse(token, out var id))
        {
            return Failed("malformed API token");
        }
        var record = await store.FindAsync(id, Context.RequestAborted);
        if (record is null || !record.Matches(token))
        {
            return Failed($"unknown API token {id}");
        }
        if (record.RevokedAt is not null)
        {
            return Failed($"API token {id} is revoked");
        }
        if (record.ExpiresAt <= time.GetUtcNow())
        {
            return Failed($"API token {id} expired at {record.ExpiresAt:O}");
        }
        await store.NoteUseAsync(record, Context.RequestAborted);
        var identity = new ClaimsIdentity(
            [new Claim("sub", "token:" + id), new Claim("name", record.Name), .. GrantMapper.TokenClaims(record)],
            AuthenticationType, "name", GrantMapper.RoleClaim);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private AuthenticateResult Failed(string reason)
    {
        audit.LoginFailed(Context, SchemeName, reason);
        return AuthenticateResult.Fail(reason);
    }

    public static string? BearerToken(HttpRequest request)
    {
        string? header = request.Headers.Authorization;
        return header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }
}

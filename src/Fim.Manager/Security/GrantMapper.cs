using System.Security.Claims;
using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Options;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Security;

/// <summary>
/// Turns an authenticated caller into its grants: OIDC callers (bearer JWT or browser cookie) through the configured
/// group map, API tokens through the grant stored with the token. Unknown groups give nothing (a caller without a
/// grant is refused everywhere).
/// </summary>
public sealed class GrantMapper(IOptions<AuthOptions> options)
{
    public const string RoleClaim = "fim:role";
    public const string LabelsClaim = "fim:match-labels";
    public const string NamespaceClaim = "fim:namespace";

    private static readonly object ItemKey = new();
    private readonly AuthOptions _options = options.Value;
    private readonly IReadOnlyList<(string Group, Grant Grant)> _groups = [.. options.Value.Groups
        .Where(g => Roles.TryParse(g.Role, out _))
        .Select(g => (g.Group, new Grant(Parse(g.Role), Selector(g), g.Namespaces is { Count: > 0 } ns ? [.. ns] : null)))];

    /// <summary>The caller of this request, worked out once per request.</summary>
    public CallerAccess For(HttpContext context)
    {
        if (context.Items.TryGetValue(ItemKey, out var cached) && cached is CallerAccess access)
        {
            return access;
        }
        access = For(context.User);
        context.Items[ItemKey] = access;
        return access;
    }

    public CallerAccess For(ClaimsPrincipal user)
    {
        if (user.Identities.FirstOrDefault(i => i.IsAuthenticated) is not { } identity)
        {
            return CallerAccess.Anonymous;
        }
        var subject = identity.FindFirst("sub")?.Value ?? identity.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? identity.Name ?? "unknown";
        if (identity.AuthenticationType == ApiTokenHandler.AuthenticationType)
        {
            return new CallerAccess(subject, identity.AuthenticationType, [TokenGrant(identity)]);
        }
        var groups = identity.FindAll(_options.Oidc.GroupsClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        return new CallerAccess(subject, identity.AuthenticationType ?? "oidc", [.. _groups.Where(g => groups.Contains(g.Group)).Select(g => g.Grant)]);
    }

    /// <summary>The claims an API token's identity carries for its grant.</summary>
    public static IEnumerable<Claim> TokenClaims(ApiTokenRecord token)
    {
        yield return new Claim(RoleClaim, token.Role);
        if (token.MatchLabels is { Count: > 0 } labels)
        {
            yield return new Claim(LabelsClaim, JsonSerializer.Serialize(labels, SecurityJson.Default.DictionaryStringString));
        }
        foreach (var ns in token.Namespaces ?? [])
        {
            yield return new Claim(NamespaceClaim, ns);
        }
    }

    private static Grant TokenGrant(ClaimsIdentity identity)
    {
        var labels = identity.FindFirst(LabelsClaim)?.Value is { } json
            ? JsonSerializer.Deserialize(json, SecurityJson.Default.DictionaryStringString)
            : null;
        var namespaces = identity.FindAll(NamespaceClaim).Select(c => c.Value).ToList();
        return new Grant(Parse(identity.FindFirst(RoleClaim)?.Value), labels is { Count: > 0 } ? new LabelSelector { MatchLabels = labels } : null,
            namespaces.Count > 0 ? namespaces : null);
    }

    private static Role Parse(string? role) => Roles.TryParse(role, out var r) ? r : Role.None;

    public static LabelSelector? Selector(GroupGrantOptions g) =>
        g.MatchLabels is not { Count: > 0 } && g.MatchExpressions is not { Count: > 0 } ? null
        : new LabelSelector
        {
            MatchLabels = g.MatchLabels is { Count: > 0 } ml ? new Dictionary<string, string>(ml) : null,
            MatchExpressions = g.MatchExpressions is { Count: > 0 } me ? [.. me.Select(r => new LabelRequirement(r.Key, r.Operator, r.Values))] : null,
        };
}

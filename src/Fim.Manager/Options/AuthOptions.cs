namespace Fim.Manager.Options;

/// <summary>
/// Who may call the API (section Fim:Auth): OIDC bearer JWTs and the browser login (<see cref="Oidc"/>), API tokens
/// kept hashed in KV fim-api-tokens, and the map from OIDC groups to roles (<see cref="Groups"/>). Every route needs a
/// caller with a role; there is no switch that turns authentication off.
/// </summary>
public sealed class AuthOptions
{
    public const string Section = "Fim:Auth";

    public OidcOptions Oidc { get; set; } = new();

    /// <summary>Which groups hold which role, optionally limited to agents and namespaces. A caller gets every matching grant.</summary>
    public List<GroupGrantOptions> Groups { get; set; } = [];

    public ApiTokenOptions Tokens { get; set; } = new();
}

public sealed class OidcOptions
{
    /// <summary>The issuer (its /.well-known/openid-configuration and JWKS are read from here). Unset: no OIDC, API tokens only.</summary>
    public string? Authority { get; set; }
    /// <summary>The aud a bearer JWT must carry.</summary>
    public string? Audience { get; set; }
    /// <summary>Refuse an http:// authority (turn off only for a local test provider).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
    /// <summary>The claim that lists the caller's groups.</summary>
    public string GroupsClaim { get; set; } = "groups";
    /// <summary>How far token lifetimes may be off between the issuer's clock and ours.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Browser login (/login): the confidential client's id; unset, the login routes answer 404.</summary>
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }
    public List<string> Scopes { get; set; } = ["openid", "profile", "groups"];
    /// <summary>How long a browser session lasts (sliding).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority);
    public bool BrowserLogin => Enabled && !string.IsNullOrWhiteSpace(ClientId);
}

public sealed class GroupGrantOptions
{
    public string Group { get; set; } = "";
    /// <summary>ingest, viewer, analyst or admin.</summary>
    public string Role { get; set; } = "";
    /// <summary>Only agents with all these labels.</summary>
    public Dictionary<string, string>? MatchLabels { get; set; }
    /// <summary>Only agents matching these requirements (key, operator In/NotIn/Exists/DoesNotExist, values).</summary>
    public List<LabelRequirementOptions>? MatchExpressions { get; set; }
    /// <summary>Only alerts and events of policies in these Kubernetes namespaces, and agents that apply one.</summary>
    public List<string>? Namespaces { get; set; }
}

public sealed class LabelRequirementOptions
{
    public string Key { get; set; } = "";
    public string Operator { get; set; } = "";
    public List<string>? Values { get; set; }
}

public sealed class ApiTokenOptions
{
    public TimeSpan DefaultLifetime { get; set; } = TimeSpan.FromDays(30);
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromDays(365);
    /// <summary>
    /// A file holding an API token (made by `fim-manager bootstrap-token`, kept in a Secret): registered once as an
    /// unscoped admin token, so a site without an IdP can create its first tokens. Never renewed: it lasts
    /// <see cref="BootstrapTokenLifetime"/> from the first start that registered it.
    /// </summary>
    public string? BootstrapTokenFile { get; set; }
    public TimeSpan BootstrapTokenLifetime { get; set; } = TimeSpan.FromHours(24);
}

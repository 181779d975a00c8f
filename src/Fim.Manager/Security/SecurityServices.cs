using System.Threading.RateLimiting;
using Fim.Manager.Options;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.IdentityModel.Tokens;

namespace Fim.Manager.Security;

/// <summary>
/// Authentication (OIDC bearer JWTs, API tokens, the browser login cookie), authorization (roles, deny by default),
/// rate limits and the audit of refusals. One selector scheme picks the handler from what the request carries.
/// </summary>
public static class SecurityServices
{
    public const string SelectorScheme = "Fim";
    public const string JwtScheme = JwtBearerDefaults.AuthenticationScheme;
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string OidcScheme = OpenIdConnectDefaults.AuthenticationScheme;
    public const string ScanRateLimit = "scan";

    public static void AddFimSecurity(this IServiceCollection services, IConfiguration config)
    {
        var auth = config.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        var api = config.GetSection(ApiOptions.Section).Get<ApiOptions>() ?? new ApiOptions();
        services.AddSingleton<GrantMapper>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<ApiTokenStore>();
        services.AddSingleton<BootstrapApiToken>();
        services.AddHostedService(sp => sp.GetRequiredService<BootstrapApiToken>());
        services.AddSingleton<IAuthorizationHandler, RoleRequirementHandler>();
        services.AddSingleton<IAuthorizationHandler, IngestRequirementHandler>();

        var bearer = auth.Oidc.Enabled ? JwtScheme : ApiTokenHandler.SchemeName;
        var authentication = services.AddAuthentication(o =>
            {
                o.DefaultScheme = SelectorScheme;
                o.DefaultChallengeScheme = SelectorScheme;
                o.DefaultForbidScheme = SelectorScheme;
            })
            .AddPolicyScheme(SelectorScheme, "FimOperator", o =>
            {
                o.ForwardDefaultSelector = context => ApiTokenHandler.BearerToken(context.Request) switch
                {
                    { } token when ApiTokenFormat.LooksLikeToken(token) => ApiTokenHandler.SchemeName,
                    not null => bearer,
                    null => auth.Oidc.BrowserLogin ? CookieScheme : bearer,
                };
                // API callers get 401/403 with WWW-Authenticate, never a redirect to a login page.
                o.ForwardChallenge = bearer;
                o.ForwardForbid = bearer;
            })
            .AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(ApiTokenHandler.SchemeName, null);

        if (auth.Oidc.Enabled)
        {
            authentication.AddJwtBearer(JwtScheme, o =>
            {
                o.Authority = auth.Oidc.Authority;
                o.Audience = auth.Oidc.Audience;
                o.RequireHttpsMetadata = auth.Oidc.RequireHttpsMetadata;
                o.MapInboundClaims = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidateIssuer = true,
                    ValidateAudience = true,
                    ValidAudience = auth.Oidc.Audience,
                    ValidateLifetime = true,
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    ValidateIssuerSigningKey = true,
                    ClockSkew = auth.Oidc.ClockSkew,
                    NameClaimType = "sub",
                };
                o.Events = new JwtBearerEvents
                {
                    OnAuthenticationFailed = context =>
                    {
                        context.HttpContext.RequestServices.GetRequiredService<AuditLog>().LoginFailed(context.HttpContext, JwtScheme, Describe(context.Exception));
                        return Task.CompletedTask;
                    },
                };
            });
        }
        if (auth.Oidc.BrowserLogin)
        {
            // One key ring for every manager (KV fim-console-keys), so a session cookie is read by whichever answers.
            services.AddSingleton<SharedKeyRing>();
            services.AddDataProtection().SetApplicationName("fim-manager");
            services.AddOptions<KeyManagementOptions>().Configure<SharedKeyRing>((o, ring) => o.XmlRepository = ring);
            authentication.AddCookie(CookieScheme, o =>
            {
                o.Cookie.Name = "fim_session";
                o.Cookie.HttpOnly = true;
                // Lax: a cross-site POST (a forged mutating call) does not carry the session.
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = auth.Oidc.SessionLifetime;
                o.SlidingExpiration = true;
                // A browser opening the console is sent to sign in (and back); API callers get their 401.
                o.Events.OnRedirectToLogin = context => WebConsole.ConsoleServices.IsConsoleRequest(context.Request)
                    ? RedirectToLoginAsync(context.HttpContext)
                    : StatusAsync(context.Response, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = context => WebConsole.ConsoleServices.IsConsoleRequest(context.Request)
                    ? NoRolePageAsync(context.HttpContext)
                    : StatusAsync(context.Response, StatusCodes.Status403Forbidden);
            });
            authentication.AddOpenIdConnect(OidcScheme, o =>
            {
                o.Authority = auth.Oidc.Authority;
                o.ClientId = auth.Oidc.ClientId;
                o.ClientSecret = auth.Oidc.ClientSecret;
                o.RequireHttpsMetadata = auth.Oidc.RequireHttpsMetadata;
                o.ResponseType = "code";
                o.UsePkce = true;
                o.MapInboundClaims = false;
                o.SaveTokens = false;
                o.SignInScheme = CookieScheme;
                o.Scope.Clear();
                foreach (var scope in auth.Oidc.Scopes)
                {
                    o.Scope.Add(scope);
                }
                o.TokenValidationParameters.NameClaimType = "name";
                o.TokenValidationParameters.ClockSkew = auth.Oidc.ClockSkew;
                // The code comes back in the query of a top-level GET, not a cross-site form post: the correlation and
                // nonce cookies can then be Lax. The form post needs them SameSite=None, which browsers drop unless
                // Secure, so a login over plain HTTP (a loopback test, a port-forward) never completed in a real browser.
                o.ResponseMode = Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectResponseMode.Query;
                o.CorrelationCookie.SameSite = SameSiteMode.Lax;
                o.NonceCookie.SameSite = SameSiteMode.Lax;
                o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.Events.OnRemoteFailure = async context =>
                {
                    context.HttpContext.RequestServices.GetRequiredService<AuditLog>()
                        .LoginFailed(context.HttpContext, OidcScheme, Describe(context.Failure));
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.HandleResponse();
                    await context.Response.WriteAsync("login failed\n");
                };
                o.Events.OnTicketReceived = context =>
                {
                    var grants = context.HttpContext.RequestServices.GetRequiredService<GrantMapper>();
                    var caller = grants.For(context.Principal!);
                    context.HttpContext.RequestServices.GetRequiredService<AuditLog>()
                        .Call(caller, context.HttpContext, "login", caller.Subject, caller.Grants.Count == 0 ? "ok (no role)" : "ok");
                    return Task.CompletedTask;
                };
            });
        }

        services.AddAuthorizationBuilder()
            .AddPolicy(Roles.ViewerPolicy, p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement(Role.Viewer)))
            .AddPolicy(Roles.AnalystPolicy, p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement(Role.Analyst)))
            .AddPolicy(Roles.IngestPolicy, p => p.RequireAuthenticatedUser().AddRequirements(new IngestRequirement()))
            .AddPolicy(Roles.AdminPolicy, p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement(Role.Admin)))
            .AddPolicy(Roles.SignedInPolicy, p => p.RequireAuthenticatedUser())
            .AddPolicy(Roles.ConsolePolicy, p => p.AddAuthenticationSchemes(CookieScheme).RequireAuthenticatedUser().AddRequirements(new RoleRequirement(Role.Viewer)))
            // Deny by default: an endpoint mapped without a policy is refused to everyone, signed in or not.
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().AddRequirements(new DenyRequirement()).Build());

        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                Ingest.IngestEndpoint.Serves(context)
                    ? RateLimitPartition.GetFixedWindowLimiter("ingest:" + CallerKey(context), _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = api.IngestRequestsPerCallerPerMinute,
                        Window = TimeSpan.FromMinutes(1),
                    })
                    : RateLimitPartition.GetFixedWindowLimiter(CallerKey(context), _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = api.RequestsPerCallerPerMinute,
                        Window = TimeSpan.FromMinutes(1),
                    }));
            o.AddPolicy(ScanRateLimit, context => RateLimitPartition.GetFixedWindowLimiter(CallerKey(context), _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = api.ScansPerCallerPerMinute,
                Window = TimeSpan.FromMinutes(1),
            }));
            o.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                http.RequestServices.GetRequiredService<AuditLog>().Refused(http, CallerKey(http), "rate-limit", StatusCodes.Status429TooManyRequests);
                if (http.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
                {
                    // gRPC clients read the status from the trailers-only response, not the HTTP status.
                    http.Response.StatusCode = StatusCodes.Status200OK;
                    http.Response.ContentType = "application/grpc";
                    http.Response.Headers["grpc-status"] = "8";
                    http.Response.Headers["grpc-message"] = "rate limit: too many requests from this caller, try again later";
                    return;
                }
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                await http.Response.WriteAsync("rate limit: too many requests from this caller, try again later\n", cancellationToken);
            };
        });
    }

    /// <summary>The pipeline: authentication, the audit of refused mutating calls, rate limits, authorization.</summary>
    public static void UseFimSecurity(this WebApplication app)
    {
        app.UseAuthentication();
        app.Use(async (context, next) =>
        {
            await next(context);
            if (context.GetEndpoint()?.Metadata.GetMetadata<AuditedAttribute>() is { } audited
                && context.Response.StatusCode is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden)
            {
                var who = context.RequestServices.GetRequiredService<GrantMapper>().For(context).Subject;
                context.RequestServices.GetRequiredService<AuditLog>().Refused(context, who, audited.Action, context.Response.StatusCode);
            }
        });
        app.UseRateLimiter();
        app.UseAuthorization();
    }

    /// <summary>/login, /logout and /me for the browser console (when a browser client is configured).</summary>
    public static void MapFimLogin(this WebApplication app, AuthOptions auth)
    {
        app.MapGet("/me", (HttpContext context, GrantMapper grants) =>
        {
            var caller = grants.For(context);
            return Results.Ok(new Me(caller.Subject, caller.Scheme,
                [.. caller.Grants.Select(g => new MeGrant(Roles.Name(g.Role), g.Agents?.MatchLabels, g.Namespaces))]));
        }).RequireAuthorization(Roles.SignedInPolicy);
        if (!auth.Oidc.BrowserLogin)
        {
            return;
        }
        app.MapGet("/login", (string? returnUrl) =>
            Results.Challenge(new AuthenticationProperties { RedirectUri = LocalPath(returnUrl) }, [OidcScheme])).AllowAnonymous();
        app.MapPost("/logout", () =>
            Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [CookieScheme, OidcScheme])).RequireAuthorization(Roles.SignedInPolicy);
    }

    /// <summary>Only a local path: /login must not become an open redirect.</summary>
    private static string LocalPath(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/me";

    /// <summary>Who is calling, for rate limits: the authenticated subject, else the client address.</summary>
    public static string CallerKey(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true
            ? "sub:" + (context.User.FindFirst("sub")?.Value ?? context.User.Identity.Name)
            : "ip:" + context.Connection.RemoteIpAddress;

    /// <summary>Why a credential was refused, from the exception's type; its message could carry token content.</summary>
    private static string Describe(Exception? e) => e switch
    {
        null => "unknown",
        SecurityTokenExpiredException => "token expired",
        SecurityTokenNotYetValidException => "token not yet valid",
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "token signature does not verify against the issuer's keys",
        SecurityTokenInvalidAudienceException => "token audience is not this API",
        SecurityTokenInvalidIssuerException => "token issuer is not the configured authority",
        SecurityTokenMalformedException => "token is malformed",
        _ => e.GetType().Name,
    };

    private static Task RedirectToLoginAsync(HttpContext context)
    {
        var back = context.Request.PathBase + context.Request.Path + context.Request.QueryString;
        // The circuit's own requests cannot come back to themselves after a login: send those to the console's start.
        var returnUrl = context.Request.Path.StartsWithSegments(WebConsole.ConsoleServices.BasePath, StringComparison.Ordinal) ? back.ToString() : WebConsole.ConsoleServices.BasePath;
        context.Response.Redirect("/login?returnUrl=" + Uri.EscapeDataString(returnUrl));
        return Task.CompletedTask;
    }

    /// <summary>Signed in, but no group of the caller maps to a role: a readable page, not a bare 403.</summary>
    private static async Task NoRolePageAsync(HttpContext context)
    {
        var who = context.RequestServices.GetRequiredService<GrantMapper>().For(context).Subject;
        context.RequestServices.GetRequiredService<AuditLog>().Refused(context, who, "console", StatusCodes.Status403Forbidden);
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>No role - FimOperator</title></head><body>"
            + "<h1>No role in FimOperator</h1><p>You are signed in as " + System.Net.WebUtility.HtmlEncode(who)
            + ", but none of your groups is given a role (viewer, analyst or admin) in Fim:Auth:Groups. Ask an administrator.</p>"
            + "<form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form></body></html>");
    }

    private static Task StatusAsync(HttpResponse response, int status)
    {
        response.StatusCode = status;
        return Task.CompletedTask;
    }

    private sealed record Me(string Subject, string Scheme, IReadOnlyList<MeGrant> Grants);

    private sealed record MeGrant(string Role, IReadOnlyDictionary<string, string>? MatchLabels, IReadOnlyList<string>? Namespaces);
}
